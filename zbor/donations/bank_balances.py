"""The bank's balances against the books (docs/ledger.md, "The bank in the books").

At import, a camt.053 statement's opening and closing balances are kept on its BankStatement;
an opening that differs from the closing of the statement before it (by closing date, in the
same currency) is imported all the same, with a warning: the lines are the bank's own record
and donors wait for them to be booked, while the gap usually means a statement not imported
yet. ``zbor reconcile`` keeps naming the gap until the missing statement closes it.

The ledger's bank balance in a currency is the opening balance of the first statement with
balances, plus what the ledger booked through the bank: ``provider:bank:<CUR>`` debits minus
credits (donations, other income and crypto sold in, matched payouts, other expenses and fees out), minus
the balances of its contra accounts ``refunds:bank:<CUR>`` and ``disputes:bank:<CUR>``.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from zbor.ledger.models import Account
from zbor.money import Money, format_money
from zbor.payments.balances import StatementBalances

from .bank_out import unmatched_bank_payouts
from .models import BankStatement, BankStatementLine, LineStatus

#: Lines of a currency that are not in the books yet, as reconcile names them.
NOT_BOOKED = (
    LineStatus.UNMATCHED,
    LineStatus.REVIEW,
    LineStatus.REVERSAL,
    LineStatus.TO_RETURN,
    LineStatus.OUTGOING,
)


def _before(statement: BankStatement, closed_on) -> BankStatement | None:
    return (
        BankStatement.objects.filter(
            currency=statement.currency, closing_balance__isnull=False, closed_on__lt=closed_on
        )
        .exclude(pk=statement.pk)
        .order_by("-closed_on", "-pk")
        .first()
    )


def record_balances(statement: BankStatement | None, balances: StatementBalances | None) -> None:
    """Keep a new statement's balances, and the last closing balance when its opening differs."""
    if statement is None or balances is None:
        return
    statement.currency = balances.currency
    previous = _before(statement, balances.closed_on)
    statement.opening_balance, statement.closing_balance = balances.opening, balances.closing
    statement.closed_on = balances.closed_on
    statement.previous_closing = (
        previous.closing_balance if previous is not None and previous.closing_balance != balances.opening else None
    )
    statement.save(update_fields=["currency", "opening_balance", "closing_balance", "closed_on", "previous_closing"])


def _money(amount: int, currency: str) -> str:
    return format_money(Money(amount, currency), get_language() or "en")


def balance_warning(statement: BankStatement | None) -> str:
    """What finance is told when the statement's opening differs from the last closing."""
    if statement is None or statement.previous_closing is None or statement.opening_balance is None:
        return ""
    return _(
        "This statement opens at %(opening)s, but the statement before it closed at %(previous)s: a statement between them may be missing. Its lines were imported; import the missing statement, and `zbor reconcile` will stop reporting the gap."
    ) % {
        "opening": _money(statement.opening_balance, statement.currency),
        "previous": _money(statement.previous_closing, statement.currency),
    }


def ledger_bank_movement(currency: str) -> int:
    """What the ledger booked through the bank in ``currency``, net (module docstring)."""
    totals = {
        code: (debits, credits)
        for code, debits, credits in Account.objects.filter(
            code__in=[f"{kind}:bank:{currency}" for kind in ("provider", "refunds", "disputes")]
        ).values_list("code", "debits_posted", "credits_posted")
    }
    debits, credits = totals.get(f"provider:bank:{currency}", (0, 0))
    held = debits - credits
    for contra in ("refunds", "disputes"):
        debits, credits = totals.get(f"{contra}:bank:{currency}", (0, 0))
        held -= credits - debits
    return held


def _gaps(statements: list[BankStatement]) -> list[str]:
    out = []
    for before, after in zip(statements, statements[1:], strict=False):
        if before.closing_balance != after.opening_balance:
            out.append(
                f"bank {after.currency}: the statement closing on {after.closed_on} opens at "
                f"{after.opening_balance}, the one closing on {before.closed_on} closed at "
                f"{before.closing_balance} (minor units): a statement is missing between them"
            )
    return out


def _balance_problems(currency: str) -> list[str]:
    statements = list(
        BankStatement.objects.filter(currency=currency, closing_balance__isnull=False).order_by("closed_on", "pk")
    )
    first, last = statements[0], statements[-1]
    assert first.opening_balance is not None and last.closing_balance is not None
    movement = ledger_bank_movement(currency)
    ledger = first.opening_balance + movement
    out = _gaps(statements)
    if ledger != last.closing_balance:
        waiting = BankStatementLine.objects.filter(currency=currency, status__in=NOT_BOOKED).count()
        out.append(
            f"bank {currency}: the statement closing on {last.closed_on} says {last.closing_balance}, "
            f"the ledger's bank balance is {ledger} (opening {first.opening_balance} on the first statement "
            f"+ {movement} booked through the bank), a difference of {last.closing_balance - ledger} "
            f"(minor units); {waiting} line(s) of this currency are not in the books yet"
        )
    return out


def problems() -> list[str]:
    """Every bank currency's balance against the ledger, and payouts paid by bank transfer whose
    statement line has not been matched after ``ZBOR_PAYOUT_LINE_DAYS``."""
    out: list[str] = []
    currencies = (
        BankStatement.objects.filter(closing_balance__isnull=False)
        .values_list("currency", flat=True)
        .distinct()
        .order_by("currency")
    )
    for currency in currencies:
        out += _balance_problems(currency)
    days = settings.ZBOR_PAYOUT_LINE_DAYS
    late = unmatched_bank_payouts().filter(paid_at__lt=timezone.now() - timedelta(days=days)).order_by("paid_at")
    for payout in late[:200]:
        out.append(
            f"payout #{payout.pk} ({payout.amount} {payout.currency} in minor units) was paid by bank transfer "
            f"on {payout.paid_at:%Y-%m-%d} and has no statement line after {days} days"
        )
    return out
