"""The chart of accounts: which ledger accounts hold a campaign's money. See docs/ledger.md.

Donations book into these accounts and payouts draw from them, so the chart lives with the
ledger, below both (the import contracts in .importlinter). It knows a need or a campaign only
by its ids (``NeedRef``, ``CampaignRef``): the ledger imports no other app.

provider:<provider>:<CUR>       what a provider (or the bank) holds for the foundation
fees:<provider>:<CUR>           provider fees paid by the foundation
refunds:<provider>:<CUR>        given back to donors (contra account of the clearing)
disputes:<provider>:<CUR>       taken back by card disputes (contra account of the clearing)
need:<need id>                  given for one need
campaign:<id>:unallocated       given beyond the campaign's goal
payouts:need:<need id>          paid out for a need (the disbursements issue)
reserve:<CUR>                   the foundation's own money, covering what campaigns no longer hold
income:<CUR>                    money in that is no donation (finance marked its statement line)
disbursed:bank:<CUR>            paid out of the bank for payouts (the bank side of a payout)
outgoing:bank:<CUR>             bank transfers sent, waiting for their statement line
expenses:<CUR>                  money out that is no payout (finance marked its statement line)
provider:btcpay:<CUR>           the crypto wallet: the book value of the crypto the foundation holds
disbursed:btcpay:<CUR>          paid out of the crypto wallet for payouts (the crypto side of a payout)
fees:btcpay:<CUR>               what converting crypto to money cost (book value − what arrived)
"""

from __future__ import annotations

from typing import Protocol

from .models import Account, AccountKind
from .services import get_account


class NeedRef(Protocol):
    """What the chart reads of a need (a zbor.campaigns Need)."""

    pk: int
    campaign_id: int


class CampaignRef(Protocol):
    """What the chart reads of a campaign (a zbor.campaigns Campaign)."""

    pk: int
    currency: str


OWNER = "campaign"
#: The accounts whose credit balances add up to what a campaign has collected.
COLLECTED_KINDS = (AccountKind.NEED, AccountKind.UNALLOCATED, AccountKind.PAYOUTS)


def need_code(need_id: int) -> str:
    return f"need:{need_id}"


def payouts_code(need_id: int) -> str:
    return f"payouts:need:{need_id}"


def unallocated_code(campaign_id: int) -> str:
    return f"campaign:{campaign_id}:unallocated"


def provider_code(provider: str, currency: str) -> str:
    return f"provider:{provider}:{currency}"


def fees_code(provider: str, currency: str) -> str:
    return f"fees:{provider}:{currency}"


def need_account(need: NeedRef, currency: str) -> Account:
    return get_account(
        need_code(need.pk), kind=AccountKind.NEED, currency=currency, owner_kind=OWNER, owner_id=need.campaign_id
    )


def unallocated_account(campaign: CampaignRef) -> Account:
    return get_account(
        unallocated_code(campaign.pk),
        kind=AccountKind.UNALLOCATED,
        currency=campaign.currency,
        owner_kind=OWNER,
        owner_id=campaign.pk,
    )


def provider_account(provider: str, currency: str) -> Account:
    return get_account(provider_code(provider, currency), kind=AccountKind.PROVIDER, currency=currency)


def fees_account(provider: str, currency: str) -> Account:
    return get_account(fees_code(provider, currency), kind=AccountKind.FEES, currency=currency)


def returned_account(kind: str, provider: str, currency: str) -> Account:
    """Where a refund or a dispute is credited (TransferKind.REFUND or DISPUTE)."""
    account_kind = AccountKind.REFUNDS if kind == "refund" else AccountKind.DISPUTES
    return get_account(f"{account_kind}:{provider}:{currency}", kind=account_kind, currency=currency)


def payouts_account(need: NeedRef, currency: str) -> Account:
    return get_account(
        payouts_code(need.pk), kind=AccountKind.PAYOUTS, currency=currency, owner_kind=OWNER, owner_id=need.campaign_id
    )


def reserve_account(currency: str) -> Account:
    """The foundation's reserve: it covers a refund or dispute of money already paid out."""
    return get_account(f"reserve:{currency}", kind=AccountKind.RESERVE, currency=currency)


def income_account(currency: str) -> Account:
    """Money that came in but is no donation: a membership fee, a grant, interest."""
    return get_account(f"income:{currency}", kind=AccountKind.INCOME, currency=currency)


def disbursed_account(currency: str, provider: str = "bank") -> Account:
    """What payouts took out of the bank (or of the crypto wallet: ``crypto_disbursed_account``):
    debited when a payout paid by bank transfer (or in crypto) is marked paid."""
    return get_account(f"disbursed:{provider}:{currency}", kind=AccountKind.DISBURSED, currency=currency)


def bank_outgoing_account(currency: str) -> Account:
    """Bank transfers sent for payouts whose statement line has not been matched yet."""
    return get_account(f"outgoing:bank:{currency}", kind=AccountKind.BANK_OUT, currency=currency)


def expenses_account(currency: str) -> Account:
    """Money out of the bank that is no payout: a bank's charges, the foundation's own costs."""
    return get_account(f"expenses:{currency}", kind=AccountKind.EXPENSES, currency=currency)


#: The payment provider whose clearing account is the foundation's crypto wallet: crypto given
#: through the foundation's BTCPay Server is booked there at its value when it settled.
CRYPTO_WALLET = "btcpay"


def crypto_wallet_account(currency: str) -> Account:
    """The crypto wallet's book value in ``currency`` (``provider:btcpay:<CUR>``): what the crypto
    was worth when it arrived, less what payouts and conversions took out at their values."""
    return provider_account(CRYPTO_WALLET, currency)


def crypto_disbursed_account(currency: str) -> Account:
    """What payouts by crypto transfer took out of the wallet (``disbursed:btcpay:<CUR>``)."""
    return disbursed_account(currency, CRYPTO_WALLET)


def crypto_fees_account(currency: str) -> Account:
    """What converting crypto to money cost: the exchange's fee and spread, and any fall of the
    coin's price since the crypto was booked (``fees:btcpay:<CUR>``)."""
    return fees_account(CRYPTO_WALLET, currency)
