"""Importing bank statements: matched credit lines become succeeded donations, the rest wait.

All or nothing: a file over the size limit is refused before it is read, the file is parsed
whole before anything is written (a malformed file is refused naming the line or element at
fault), and the import runs in one transaction with its audit. Lines are stored under the
bank's own id, so importing the same statement again adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from zbor.accounts.services import audit
from zbor.payments.balances import read_balances
from zbor.payments.bank import (
    MAX_STATEMENT_BYTES,
    StatementError,
    StatementLine,
    near_references,
    parse_statement,
    references_in,
)

from . import bank_out, services
from .bank_balances import record_balances
from .models import BankStatement, BankStatementLine, Donation, DonationStatus, LineStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from zbor.payments.models import StatementLayout


@dataclass(frozen=True)
class ImportReport:
    statement: BankStatement | None
    total: int
    new: int
    matched: int
    unmatched: int
    outgoing: int
    #: Lines naming a pledge but with another amount or currency: finance decides.
    review: int = 0


def _pending_bank_donation(line: StatementLine) -> Donation | None:
    """The one pending pledge the line's text names, in any currency (one in another currency
    waits for finance), unless a line waiting for finance already names it."""
    pending = (
        Donation.objects.filter(provider="bank", status=DonationStatus.PENDING)
        .exclude(checkout_reference="")  # names the condition of the index of references: SQLite uses it only then
        .exclude(
            pk__in=BankStatementLine.objects.filter(status=LineStatus.REVIEW, donation__isnull=False).values(
                "donation_id"
            )
        )
    )
    exact = list(pending.filter(checkout_reference__in=references_in(line.text))[:2])
    if len(exact) == 1:
        return exact[0]
    if exact:
        return None
    near = list(pending.filter(checkout_reference__in=near_references(line.text))[:2])
    return near[0] if len(near) == 1 else None


def import_statement(upload: bytes | IO[bytes], *, by: User, layout: StatementLayout | None = None) -> ImportReport:
    """Parse and import a camt.053 or CSV statement (its bytes, or an uploaded file, which is
    not read past the size limit), audited in the import's transaction. A CSV is read in the
    bank's saved ``layout`` if one is given, else as Zbor's own. Raises StatementError on a
    file that is too large or malformed: then nothing was written."""
    data = upload if isinstance(upload, bytes) else upload.read(MAX_STATEMENT_BYTES + 1)
    if len(data) > MAX_STATEMENT_BYTES:
        raise StatementError(_("The file is larger than 10 MB."))
    lines = parse_statement(data, expected_iban=settings.ZBOR_BANK_IBAN, layout=layout)
    balances = read_balances(data)
    try:
        with transaction.atomic():
            report = _import_lines(lines, by=by)
            record_balances(report.statement, balances)
            audit(by, "bank_statement.import", report.statement, fields=["lines"])
    except IntegrityError:
        # Another upload of the same lines committed while this one ran (PostgreSQL makes the
        # second INSERT of a line's key wait for the first, then refuses it): nothing of this
        # upload was written. Anything else is not this, and goes on as the error it is.
        if not BankStatementLine.objects.filter(key__in=[line.key for line in lines]).exists():
            raise
        raise StatementError(
            _(
                "This statement, or some of its lines, was being imported by someone else at the same moment. Nothing was written from this upload: look at the list of statements, and upload it again if lines are missing."
            )
        ) from None
    return report


def _import_lines(lines: list[StatementLine], *, by: User) -> ImportReport:
    """The lines not imported before, each matched or left for staff, in the caller's transaction."""
    known = set(BankStatementLine.objects.filter(key__in=[line.key for line in lines]).values_list("key", flat=True))
    new = [line for line in lines if line.key not in known]
    if not new:
        return ImportReport(None, len(lines), 0, 0, 0, 0)
    statement = BankStatement.objects.create(uploaded_by=by, lines_total=len(lines), lines_new=len(new))
    counts: dict[str, int] = {
        LineStatus.MATCHED: 0,
        LineStatus.UNMATCHED: 0,
        LineStatus.OUTGOING: 0,
        LineStatus.REVIEW: 0,
    }
    for line in new:
        row = _import_line(statement, line)
        counts[LineStatus.UNMATCHED if row.status == LineStatus.REVERSAL else row.status] += 1
    BankStatement.objects.filter(pk=statement.pk).update(lines_matched=counts[LineStatus.MATCHED])
    return ImportReport(
        statement,
        len(lines),
        len(new),
        counts[LineStatus.MATCHED],
        counts[LineStatus.UNMATCHED],
        counts[LineStatus.OUTGOING],
        counts[LineStatus.REVIEW],
    )


def _import_line(statement: BankStatement, line: StatementLine) -> BankStatementLine:
    """Store one new line: a credit whose reference names one pending pledge confirms it when
    it brings exactly the pledged amount; any other amount or currency, or an amount above the
    per-donation maximum, waits for finance (LineStatus.REVIEW), never booked by itself."""
    row = BankStatementLine(
        statement=statement, key=line.key, booked_on=line.booked_on, amount=line.amount, currency=line.currency
    )
    matchable = line.is_credit and not line.reversal and not line.is_batch
    donation = _pending_bank_donation(line) if matchable else None
    if line.reversal:
        # A returned or reversed transfer: never booked automatically.
        row.status, row.text = LineStatus.REVERSAL, line.text
    elif not line.is_credit:
        bank_out.match_outgoing(row, text=line.text)  # MATCHED to its payout, or OUTGOING
    elif donation is not None and _differs(line, donation):
        row.status, row.donation, row.pledged, row.text = LineStatus.REVIEW, donation, donation.amount, line.text
    elif donation is not None:
        services.confirm_donation(donation, amount=line.amount)
        row.status, row.donation = LineStatus.MATCHED, donation
    else:
        row.status, row.text = LineStatus.UNMATCHED, line.text
    row.save()
    return row


def _differs(line: StatementLine, donation: Donation) -> bool:
    return (
        line.amount != donation.amount
        or line.currency != donation.currency
        or line.amount > services.max_donation(line.currency)
    )
