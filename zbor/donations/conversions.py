"""Crypto sold for money: the bank statement line that brought the money, marked a conversion.

The foundation's crypto is in the books at what it was worth when it arrived: crypto given
through BTCPay is booked into ``provider:btcpay:<CUR>`` at its value at settlement, and
payouts by crypto transfer take their value out of it (zbor.disbursements.services). That
account's debit balance is the crypto wallet's *book value*.

When finance sells crypto at an exchange, the money arrives on the bank statement as a credit
no pledge claims: it waits in the unmatched queue. Finance marks it "Conversion of crypto…" and
enters the book value of the crypto sold (at least what arrived, at most what the wallet holds
at book value). The money that arrived moves from the wallet to the bank; the rest of the book
value is what selling cost (the exchange's fee and spread, and any fall of the price since the
crypto arrived), booked into the wallet's fees account. €480.00 arrived for crypto booked at
€500.00 — group ``bankline:<line key>:conversion``::

    provider:bank:EUR    →  provider:btcpay:EUR   480.00   (conversion)
    fees:btcpay:EUR      →  provider:btcpay:EUR    20.00   (conversion)

Both transfers are of kind ``conversion``, the cost too: a transfer of kind ``fee`` is a
donation's provider fee, and ``zbor reconcile`` checks each one against its donation.

The bank holds €480 more, the wallet €500 less at book value, selling cost €20. No account
belongs to a campaign: no public figure moves. Money that arrived above the crypto's book value
(a gain) is refused: Zbor does not book gains on crypto yet (docs/finance.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from zbor.accounts.services import audit
from zbor.ledger import chart
from zbor.ledger.models import Account, TransferKind
from zbor.ledger.selectors import provider_holds
from zbor.ledger.services import Line, post_group
from zbor.money import Money, format_money

from .exceptions import DonationRefused, NotInReview
from .models import BankStatementLine, LineStatus
from .services.review import require_decider

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _money(amount: int, currency: str) -> str:
    return format_money(Money(amount, currency), get_language() or "en")


def _check_book_value(book_value: int, received: int, holds: int, currency: str) -> None:
    if book_value < received:
        raise DonationRefused(
            _(
                "The book value of the crypto sold (%(book)s) is less than what arrived (%(received)s): "
                "Zbor does not book gains on crypto. Enter at least what arrived."
            )
            % {"book": _money(book_value, currency), "received": _money(received, currency)}
        )
    if book_value > holds:
        raise DonationRefused(
            _("The crypto wallet holds only %(holds)s at book value in %(currency)s; %(book)s was entered.")
            % {"holds": _money(max(holds, 0), currency), "currency": currency, "book": _money(book_value, currency)}
        )


def convert_crypto(line: BankStatementLine, *, book_value: int, note: str, by: User) -> BankStatementLine:
    """Book an unmatched credit line as the money from selling crypto whose book value was
    ``book_value`` (minor units of the line's currency), with ``note`` saying what was sold
    where. DonationRefused (nothing written) for a book value below what arrived or above what
    the wallet holds, NotInReview for a line decided before. Audited."""
    require_decider(by)
    note = note.strip()
    if not note:
        raise DonationRefused(_("Say what was sold, and where."))
    with transaction.atomic():
        locked = BankStatementLine.objects.select_for_update().get(pk=line.pk)
        if locked.status != LineStatus.UNMATCHED:
            raise NotInReview(_("This line was decided before: it is no longer waiting in the queue."))
        currency = locked.currency
        wallet = chart.crypto_wallet_account(currency)
        # Two conversions at once must not both spend the same book value: the wallet's row
        # is the lock (post_group takes it again, with the others, in primary-key order).
        Account.objects.select_for_update().filter(pk=wallet.pk).first()
        _check_book_value(book_value, locked.amount, provider_holds(chart.CRYPTO_WALLET, currency), currency)
        lines = [Line(chart.provider_account("bank", currency), wallet, locked.amount, TransferKind.CONVERSION)]
        if book_value > locked.amount:
            cost = book_value - locked.amount
            lines.append(Line(chart.crypto_fees_account(currency), wallet, cost, TransferKind.CONVERSION))
        post_group(
            f"bankline:{locked.key}:conversion",
            kind=TransferKind.CONVERSION,
            reference=f"bankline:{locked.pk}",
            lines=lines,
        )
        locked.status, locked.reason = LineStatus.CONVERSION, note
        locked.save(update_fields=["status", "reason"])
        audit(by, "bank_statement_line.conversion", locked, fields=["status", "reason", "book_value"])
    line.refresh_from_db()
    return line
