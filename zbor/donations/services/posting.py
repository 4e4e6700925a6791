"""What one turn of a campaign's booking queue writes: the ledger groups of a batch of
confirmations, the donations' new state, and the campaign's funding.

Worked example, the demo's €683 (see docs/ledger.md): the first €200.00, unearmarked, fills
the first need; €100.00 earmarked to the second need goes there whole; later unearmarked gifts
fill the first need up to €500.00 and then the second. Each confirmation is one ledger group
``donation:<id>:succeeded``: provider clearing is debited, the need accounts credited.

Everything here runs inside the transaction ``booking`` opens, under the campaign's lock.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils import timezone

from zbor.campaigns import services as campaign_services
from zbor.campaigns.models import Campaign, Need, Status
from zbor.ledger import chart as accounts
from zbor.ledger.models import Account, TransferKind
from zbor.ledger.services import Line, NewGroup, post_new_groups
from zbor.tasks import enqueue_on_commit

from ..models import Confirmation, Donation, DonationStatus
from ..selectors import CampaignMoney, allocate, money_from_balances
from .start import ACCEPTING


def book(campaign: Campaign, confirmations: list[Confirmation]) -> None:
    needs = list(Need.objects.filter(campaign=campaign).order_by("position", "id"))
    ledger_accounts = _AccountCache(campaign, needs, confirmations)
    money = ledger_accounts.money()
    raised = dict(money.raised_by_need)
    groups = []
    for confirmation in confirmations:
        donation = confirmation.donation
        lines = _campaign_lines(campaign, raised, donation, confirmation.amount, ledger_accounts)
        if confirmation.fee > 0:
            clearing = ledger_accounts.provider(donation.provider, donation.currency)
            lines.append(
                Line(
                    ledger_accounts.fees(donation.provider, donation.currency),
                    clearing,
                    confirmation.fee,
                    TransferKind.FEE,
                )
            )
        groups.append(NewGroup(f"{donation.reference}:succeeded", TransferKind.DONATION, donation.reference, lines))
    post_new_groups(groups)
    # One statement for the batch, each donation taking its values from its confirmation.
    donations = [c.donation for c in confirmations]

    def confirmed(field: str) -> Subquery:
        return Subquery(Confirmation.objects.filter(donation_id=OuterRef("pk")).values(field)[:1])

    Donation.objects.filter(pk__in=[d.pk for d in donations]).update(
        status=DonationStatus.SUCCEEDED,
        succeeded_at=timezone.now(),
        amount=confirmed("amount"),
        fee=confirmed("fee"),
        payment_reference=Coalesce(NullIf(confirmed("payment_reference"), Value("")), F("payment_reference")),
        charge_reference=Coalesce(NullIf(confirmed("charge_reference"), Value("")), F("charge_reference")),
    )
    goal = sum(n.amount for n in needs)
    collected = money.collected + sum(c.amount for c in confirmations)
    if campaign.status == Status.PUBLISHED and goal and collected >= goal:
        campaign_services.mark_funded(campaign, by=None)
    for donation in donations:
        if donation.email:
            from ..tasks import send_receipt

            # A queue that is down must not turn a committed donation into an error: the
            # receipt is then sent by the sweep (tasks.send_unsent_receipts).
            enqueue_on_commit(send_receipt, donation.pk)


class _AccountCache:
    """The ledger accounts one batch posts to, read in one query (created on first use), and
    the campaign's needs in their order."""

    def __init__(self, campaign: Campaign, needs: list[Need], confirmations: list[Confirmation]):
        self.campaign, self.needs = campaign, {n.pk: n for n in needs}
        providers = {(c.donation.provider, c.donation.currency) for c in confirmations}
        codes = [accounts.provider_code(p, cur) for p, cur in providers] + [
            accounts.fees_code(p, cur) for p, cur in providers
        ]
        # The campaign's own accounts (their balances are what it has collected) and the providers'.
        found = Account.objects.filter(Q(owner_kind=accounts.OWNER, owner_id=campaign.pk) | Q(code__in=codes))
        self.accounts = {a.code: a for a in found}

    def money(self) -> CampaignMoney:
        """What the campaign has collected, from the balances read with its accounts."""
        collected = [
            (a.code, a.credits_posted, a.debits_posted)
            for a in self.accounts.values()
            if a.owner_kind == accounts.OWNER and a.owner_id == self.campaign.pk and a.kind in accounts.COLLECTED_KINDS
        ]
        return money_from_balances(self.campaign.pk, list(self.needs), collected)

    def _get(self, code: str, make: Callable[[], Account]) -> Account:
        if code not in self.accounts:
            self.accounts[code] = make()
        return self.accounts[code]

    def need(self, need_id: int, currency: str) -> Account:
        return self._get(accounts.need_code(need_id), lambda: accounts.need_account(self.needs[need_id], currency))

    def unallocated(self) -> Account:
        return self._get(
            accounts.unallocated_code(self.campaign.pk), lambda: accounts.unallocated_account(self.campaign)
        )

    def provider(self, provider: str, currency: str) -> Account:
        return self._get(
            accounts.provider_code(provider, currency), lambda: accounts.provider_account(provider, currency)
        )

    def fees(self, provider: str, currency: str) -> Account:
        return self._get(accounts.fees_code(provider, currency), lambda: accounts.fees_account(provider, currency))


def _campaign_lines(
    campaign: Campaign, raised: dict[int, int], donation: Donation, amount: int, ledger_accounts: _AccountCache
) -> list[Line]:
    """The donation's transfers from its provider's clearing account to the campaign's needs
    (``ledger_accounts.needs``, in order), filling them from ``raised`` (updated in place, for
    the next donation of the batch)."""
    needs = ledger_accounts.needs
    if campaign.status in ACCEPTING:
        earmark = donation.need_id if donation.need_id in needs else None
        shares, beyond = allocate([(n.pk, n.amount) for n in needs.values()], raised, amount, earmark)
    else:
        # Money that arrives after the campaign closed (a late bank transfer) is kept for the
        # campaign, beyond its goal, where finance sees it; it fills no need.
        shares, beyond = {}, amount
    clearing = ledger_accounts.provider(donation.provider, donation.currency)
    lines = []
    for need_id, share in shares.items():
        raised[need_id] = raised.get(need_id, 0) + share
        lines.append(Line(clearing, ledger_accounts.need(need_id, donation.currency), share, TransferKind.DONATION))
    if beyond:
        lines.append(Line(clearing, ledger_accounts.unallocated(), beyond, TransferKind.DONATION))
    return lines
