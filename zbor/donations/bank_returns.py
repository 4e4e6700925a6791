"""Money out that sent a gift back: an outgoing statement line matched to what it returned.

Two kinds of money go back to a donor by hand from the bank, and each shows up later as a debit
line of the statement (``OUTGOING`` until finance says what it was):

- a **bank refund** staff approved (``services.refunds``): it was booked at approval, taking the
  money out of the campaign's accounts into ``refunds:bank:<CUR>``, so the line books nothing
  more; it is linked to the refund (``SENT_BACK``);
- a line finance **returned** (``TO_RETURN``: money that was never a donation and was never
  booked): the outgoing line takes it back out, so neither is booked; the pair is linked, the
  outgoing line ``SENT_BACK``, the returned one ``RETURNED``.

Either way the bank's balance and the ledger's agree again, and neither line waits in the
queue. Both need the same amount and currency; each is audited. A bank refund approved more
than ``ZBOR_PAYOUT_LINE_DAYS`` ago with no line yet is reported by ``zbor reconcile``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zbor.accounts.services import audit

from .bank_out import locked_outgoing
from .exceptions import DonationRefused
from .models import BankStatementLine, LineStatus, Refund, RefundStatus
from .services.review import require_decider

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def unsent_bank_refunds():
    """Bank refunds approved and booked whose money out no statement line has shown yet."""
    return Refund.objects.filter(status=RefundStatus.BOOKED, donation__provider="bank").exclude(
        pk__in=BankStatementLine.objects.filter(refund__isnull=False).values("refund_id")
    )


def lines_to_return():
    """Lines finance returned whose money out no statement line has shown yet."""
    return BankStatementLine.objects.filter(status=LineStatus.TO_RETURN)


def _same_money(line: BankStatementLine, amount: int, currency: str) -> None:
    if (amount, currency) != (line.amount, line.currency):
        raise DonationRefused(_("The money out and what it sent back differ in amount or currency."))


def match_to_refund(line: BankStatementLine, *, refund: Refund, by: User) -> BankStatementLine:
    """The outgoing ``line`` sent the bank ``refund`` (booked at its approval): nothing more is
    booked; the line is linked to it."""
    require_decider(by)
    with transaction.atomic():
        locked = locked_outgoing(line)
        sent = unsent_bank_refunds().select_for_update().filter(pk=refund.pk).select_related("donation").first()
        if sent is None:
            raise DonationRefused(_("This refund is not a bank refund waiting for its money out."))
        _same_money(locked, sent.amount, sent.donation.currency)
        locked.status, locked.refund = LineStatus.SENT_BACK, sent
        locked.save(update_fields=["status", "refund"])
        audit(by, "bank_statement_line.match_refund", locked, fields=["status", "refund"])
    line.refresh_from_db()
    return line


def match_to_return(line: BankStatementLine, *, returned: BankStatementLine, by: User) -> BankStatementLine:
    """The outgoing ``line`` sent back the money of the ``returned`` line: neither is booked;
    the pair is linked."""
    require_decider(by)
    with transaction.atomic():
        # Both rows locked in the order of their keys, as any two decisions on them are.
        first, second = sorted([line.pk, returned.pk])
        rows = BankStatementLine.objects.select_for_update().in_bulk([first, second])
        if returned.pk not in rows or rows[returned.pk].status != LineStatus.TO_RETURN:
            raise DonationRefused(_("That line is not money waiting to be returned."))
        locked = locked_outgoing(rows[line.pk])
        back = rows[returned.pk]
        _same_money(locked, back.amount, back.currency)
        locked.status, locked.returned_line = LineStatus.SENT_BACK, back
        locked.save(update_fields=["status", "returned_line"])
        back.status = LineStatus.RETURNED
        back.save(update_fields=["status"])
        audit(by, "bank_statement_line.match_return", locked, fields=["status", "returned_line"])
        audit(by, "bank_statement_line.returned", back, fields=["status"])
    line.refresh_from_db()
    return line


def problems() -> list[str]:
    """Bank refunds approved more than ``ZBOR_PAYOUT_LINE_DAYS`` ago with no money out yet."""
    days = settings.ZBOR_PAYOUT_LINE_DAYS
    late = unsent_bank_refunds().filter(decided_at__lt=timezone.now() - timedelta(days=days)).order_by("decided_at")
    return [
        f"refund #{refund.pk} ({refund.amount} in minor units) of a bank gift was approved on "
        f"{refund.decided_at:%Y-%m-%d} and no statement line has shown its money out after {days} days"
        for refund in late.select_related("donation")[:200]
    ]
