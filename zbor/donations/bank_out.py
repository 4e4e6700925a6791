"""Money out of the bank: outgoing statement lines matched to the payouts they paid.

A payout paid by bank transfer is booked, when it is marked paid, as sent and waiting for its
statement line (``disbursed:bank → outgoing:bank``, zbor.disbursements.services). Its line,
once imported, takes the money out of the bank in the ledger, group ``payout:<id>:bank``::

    outgoing:bank:EUR  →  provider:bank:EUR   500.00   (bank_out)

A debit line is matched at import when exactly one paid-by-bank payout not matched yet has its
amount and currency, was paid at most ``MATCH_DAYS`` before the line was booked (or the day
after: a bank may date a transfer the day it was ordered), and, when the line's text names
payouts ("payout:12", "Payout 12"), is one of them. Otherwise the line stays OUTGOING for
finance, who match it by hand or book it as another expense. The line's text is read to match
and never stored: it names the payee.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from zbor.accounts.services import audit
from zbor.disbursements.models import Channel, Payout, PayoutStatus
from zbor.ledger import chart
from zbor.ledger.models import Transfer, TransferKind
from zbor.ledger.services import Line, post_group
from zbor.money import Money, format_money

from .exceptions import DonationRefused
from .models import BankStatementLine, LineStatus
from .services.review import given_reason, require_decider

if TYPE_CHECKING:
    from django.contrib.auth.models import User

#: Days between a payout marked paid and its line booked by the bank, at most.
MATCH_DAYS = 5
_NAMED = re.compile(r"payout\W{0,3}(\d{1,18})", re.IGNORECASE)


def unmatched_bank_payouts():
    """Payouts paid by bank transfer whose statement line is not matched yet."""
    return Payout.objects.filter(channel=Channel.BANK_ABROAD, status=PayoutStatus.PAID).exclude(
        pk__in=BankStatementLine.objects.filter(payout__isnull=False).values("payout_id")
    )


def _candidate(row: BankStatementLine, text: str, taken: Collection[int]) -> Payout | None:
    """The one payout the line fits, or None when none or several do (``taken``: payouts an
    earlier line of the same import batch matched, not saved yet)."""
    fits = (
        unmatched_bank_payouts()
        .exclude(pk__in=list(taken))
        .filter(
            amount=row.amount,
            currency=row.currency,
            paid_at__date__gte=row.booked_on - timedelta(days=MATCH_DAYS),
            paid_at__date__lte=row.booked_on + timedelta(days=1),
        )
    )
    named = {int(number) for number in _NAMED.findall(text)}
    if named:
        fits = fits.filter(pk__in=named)
    found = list(fits[:2])
    return found[0] if len(found) == 1 else None


def _book(payout: Payout, amount: int, currency: str) -> None:
    lines = [
        Line(
            chart.bank_outgoing_account(currency),
            chart.provider_account("bank", currency),
            amount,
            TransferKind.BANK_OUT,
        )
    ]
    sent = Transfer.objects.filter(group__key=f"{payout.reference}:paid", kind=TransferKind.BANK_OUT)
    if not sent.exists():
        # Marked paid before the bank was in the books (ledger migration 0008), so never booked
        # as sent: book it now, so that "sent, waiting for the bank" does not go negative.
        lines.insert(
            0,
            Line(
                chart.disbursed_account(currency), chart.bank_outgoing_account(currency), amount, TransferKind.BANK_OUT
            ),
        )
    post_group(f"{payout.reference}:bank", kind=TransferKind.BANK_OUT, reference=payout.reference, lines=lines)


def match_outgoing(row: BankStatementLine, *, text: str, taken: set[int]) -> None:
    """Called at import for a new debit line (not saved yet), in the import's transaction: set
    it MATCHED to the one payout it fits and book it, or leave it OUTGOING for finance.
    ``taken`` holds the payouts this import batch matched so far; the match is added to it."""
    payout = _candidate(row, text, taken)
    if payout is None:
        row.status = LineStatus.OUTGOING
        return
    _book(payout, row.amount, row.currency)
    row.status, row.payout = LineStatus.MATCHED, payout
    taken.add(payout.pk)


def locked_outgoing(line: BankStatementLine) -> BankStatementLine:
    locked = BankStatementLine.objects.select_for_update().get(pk=line.pk)
    if locked.status != LineStatus.OUTGOING:
        raise DonationRefused(_("Only money out that is not matched yet can be decided here."))
    return locked


def match_to_payout(line: BankStatementLine, *, payout_id: int, by: User) -> BankStatementLine:
    """Finance says which payout an outgoing line paid: the payout must be paid by bank
    transfer, not matched yet, of the line's amount and currency. Audited."""
    require_decider(by)
    with transaction.atomic():
        locked = locked_outgoing(line)
        payout = unmatched_bank_payouts().select_for_update().filter(pk=payout_id).first()
        if payout is None:
            raise DonationRefused(
                _("Payout #%(id)s is not a payout paid by bank transfer still waiting for its statement line.")
                % {"id": payout_id}
            )
        if (payout.amount, payout.currency) != (locked.amount, locked.currency):
            raise DonationRefused(
                _("The line takes out %(line)s, payout #%(id)s paid %(payout)s.")
                % {
                    "line": format_money(Money(locked.amount, locked.currency), get_language() or "en"),
                    "id": payout.pk,
                    "payout": format_money(Money(payout.amount, payout.currency), get_language() or "en"),
                }
            )
        _book(payout, locked.amount, locked.currency)
        locked.status, locked.payout = LineStatus.MATCHED, payout
        locked.save(update_fields=["status", "payout"])
        audit(by, "bank_statement_line.match_payout", locked, fields=["status", "payout"])
    line.refresh_from_db()
    return line


def mark_other_expense(line: BankStatementLine, *, reason: str, by: User) -> BankStatementLine:
    """Money out that paid no payout (a bank's charge, rent): booked as the foundation's other
    expense (``expenses:<CUR>``), with why. Audited."""
    require_decider(by)
    reason = given_reason(reason)
    with transaction.atomic():
        locked = locked_outgoing(line)
        post_group(
            f"bankline:{locked.key}:expense",
            kind=TransferKind.EXPENSE,
            reference=f"bankline:{locked.pk}",
            lines=[
                Line(
                    chart.expenses_account(locked.currency),
                    chart.provider_account("bank", locked.currency),
                    locked.amount,
                    TransferKind.EXPENSE,
                )
            ],
        )
        locked.status, locked.reason = LineStatus.OTHER_EXPENSE, reason
        locked.save(update_fields=["status", "reason"])
        audit(by, "bank_statement_line.other_expense", locked, fields=["status", "reason"])
    line.refresh_from_db()
    return line
