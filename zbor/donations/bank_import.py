"""Importing bank statements: matched credit lines become succeeded donations, the rest wait.

Parsing is all or nothing: a file over the size limit is refused before it is read, and the
file is parsed whole before anything is written (a malformed file is refused naming the line
or element at fault, and nothing is written).

Writing is done in batches of ``BATCH_LINES`` lines, each its own transaction, so that a
statement of 20,000 lines never holds the database's writer for long: between two batches a
donor's pledge, or any other write, takes its turn (on SQLite the import pauses briefly after
each batch for writers of other processes, which poll: ``_let_other_writers_in``). A batch
stores its lines in one bulk insert, finds the pending pledges its lines name in one query,
and books the confirmations it matched through the booking queue (``services.booking``: group
commit, one turn per campaign).
Matching is as line by line, in the file's order: a credit books its pledge only when exactly
one pending pledge fits its reference (exact references first, then those one typing slip
away) and it brings exactly the pledged amount; one of another amount or currency, or above
the per-donation maximum, waits for finance (REVIEW); a pledge taken by a line is no longer
pending for the lines after it. A line naming a bank standing order's permanent reference
(a monthly gift) becomes a new month of it, matched or waiting for finance the same way
(``services.standing_orders``).

What a failure leaves:

- The first batch writes the statement's record and its audit row (audited once per upload),
  so an import that fails in its first batch, or whose audit cannot be written, leaves nothing.
- A failure in a later batch leaves the batches before it: each line and what it booked are
  committed together, and the statement's counts are raised in the batch's transaction, so the
  record always counts exactly the lines stored under it. Lines are stored under the bank's
  own id (unique), so uploading the same file again imports exactly the lines still missing,
  under a new statement record, and books nothing twice.
- Another upload of the same lines at the same moment: the batch that meets them is refused
  by the unique key and rolled back, and the uploader is told (StatementError).

Called inside an outer transaction (the tests), the batches are savepoints of it and the
import is all or nothing again.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from functools import partial
from typing import IO, TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from zbor.accounts.services import audit
from zbor.logs import event
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
from .models import BankStatement, BankStatementLine, Donation, DonationStatus, LineStatus, MonthlyGift

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.contrib.auth.models import User

    from zbor.payments.models import StatementLayout

#: Lines written per transaction: large enough that a batch's queries cost little per line,
#: small enough that a batch holds SQLite's writer for a fraction of a second.
BATCH_LINES = 500

#: Seconds an import on SQLite pauses after each batch (``_let_other_writers_in``).
SQLITE_PAUSE = 0.1

#: References per query: well below every database's limit of parameters.
_REFERENCES_PER_QUERY = 500


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


def import_statement(upload: bytes | IO[bytes], *, by: User, layout: StatementLayout | None = None) -> ImportReport:
    """Parse and import a camt.053 or CSV statement (its bytes, or an uploaded file, which is
    not read past the size limit), in batches (see the module's docstring), audited with the
    first. A CSV is read in the bank's saved ``layout`` if one is given, else as Zbor's own.
    Raises StatementError on a file that is too large or malformed (then nothing was written),
    or when another upload imported some of the same lines at the same moment."""
    data = upload if isinstance(upload, bytes) else upload.read(MAX_STATEMENT_BYTES + 1)
    if len(data) > MAX_STATEMENT_BYTES:
        raise StatementError(_("The file is larger than 10 MB."))
    lines = parse_statement(data, expected_iban=settings.ZBOR_BANK_IBAN, layout=layout)
    balances = read_balances(data)
    known = set(_known_keys(line.key for line in lines))
    new = [line for line in lines if line.key not in known]
    counts: dict[str, int] = dict.fromkeys(
        (LineStatus.MATCHED, LineStatus.UNMATCHED, LineStatus.OUTGOING, LineStatus.REVIEW), 0
    )
    statement = None
    for start in range(0, len(new), BATCH_LINES):
        batch = new[start : start + BATCH_LINES]
        for attempt in range(2):
            try:
                with transaction.atomic():
                    if statement is None:
                        statement = BankStatement.objects.create(uploaded_by=by, lines_total=len(lines))
                        record_balances(statement, balances)
                        audit(by, "bank_statement.import", statement, fields=["lines"])
                    batch_counts = _import_lines(statement, batch)
            except IntegrityError:
                if start == 0:
                    statement = None  # its record was rolled back with the first batch
                if _known_keys(line.key for line in batch):
                    raise _concurrent_upload(written=start) from None
                if attempt or connection.in_atomic_block:
                    raise
                # Another import matched the same payout or pledge at the same moment and
                # committed first: read again, the batch now finds that money taken.
                continue
            break
        for status, count in batch_counts.items():
            counts[status] += count
        _let_other_writers_in()
    report = ImportReport(
        statement,
        len(lines),
        len(new),
        counts[LineStatus.MATCHED],
        counts[LineStatus.UNMATCHED],
        counts[LineStatus.OUTGOING],
        counts[LineStatus.REVIEW],
    )
    transaction.on_commit(partial(_log_import, report))
    return report


def _log_import(report: ImportReport) -> None:
    """The import as a line of the log: counts only (a line names its payer)."""
    event(
        "bank_statement.imported",
        lines=report.total,
        new=report.new,
        matched=report.matched,
        unmatched=report.unmatched,
        outgoing=report.outgoing,
        review=report.review,
    )


def _let_other_writers_in() -> None:
    """On SQLite, pause between two batches so that a writer of another process gets its turn:
    SQLite queues such writers by polling, with sleeps growing to 100 ms, and one could miss
    every gap between batches and wait for the whole import (ADR 0012). Writers of this process
    queue without polling (``zbor.sqlite_writers``). Never inside an outer transaction, which
    would hold the writer while it sleeps."""
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        time.sleep(SQLITE_PAUSE)


def _known_keys(keys: Iterable[str]) -> list[str]:
    keys = list(keys)
    known: list[str] = []
    for start in range(0, len(keys), _REFERENCES_PER_QUERY):
        chunk = keys[start : start + _REFERENCES_PER_QUERY]
        known += BankStatementLine.objects.filter(key__in=chunk).values_list("key", flat=True)
    return known


def _concurrent_upload(*, written: int) -> StatementError:
    """Another upload of the same lines committed while a batch ran (PostgreSQL makes the
    second INSERT of a line's key wait for the first, then refuses it): the batch was rolled
    back, the ``written`` lines of the batches before it stay."""
    if not written:
        return StatementError(
            _(
                "This statement, or some of its lines, was being imported by someone else at the same moment. Nothing was written from this upload: look at the list of statements, and upload it again if lines are missing."
            )
        )
    return StatementError(
        _(
            "This statement, or some of its lines, was being imported by someone else at the same moment. Lines of this upload imported before that: %(count)d. Upload it again to import the lines still missing."
        )
        % {"count": written}
    )


def _import_lines(statement: BankStatement, lines: list[StatementLine]) -> dict[str, int]:
    """Store a batch of new lines, each matched or left for staff, and book what matched, in
    the caller's transaction; count them in the statement's own counts, and return them by
    status."""
    pending = _PendingPledges(line for line in lines if _matchable(line))
    payouts_taken: set[int] = set()  # by the batch's outgoing lines, before they are saved
    rows = [_import_line(statement, line, pending, payouts_taken) for line in lines]
    BankStatementLine.objects.bulk_create(rows)
    matched = [(row, row.donation) for row in rows if row.status == LineStatus.MATCHED and row.donation]
    services.confirm_donations([(donation, row.amount) for row, donation in matched])
    for row, _donation in matched:
        if row.monthly_gift is not None:
            services.month_paid(row.monthly_gift, paid_on=row.booked_on)
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[_counted_as(row)] += 1
    BankStatement.objects.filter(pk=statement.pk).update(
        lines_new=F("lines_new") + len(rows), lines_matched=F("lines_matched") + counts[LineStatus.MATCHED]
    )
    return counts


def _counted_as(row: BankStatementLine) -> str:
    """The report's column for a new line: a reversal waits in the unmatched queue, and money
    out matched to its payout is money out, not a matched donation."""
    if row.status == LineStatus.REVERSAL:
        return LineStatus.UNMATCHED
    if row.payout_id is not None:
        return LineStatus.OUTGOING
    return row.status


def _matchable(line: StatementLine) -> bool:
    return line.is_credit and not line.reversal and not line.is_batch


def _import_line(
    statement: BankStatement, line: StatementLine, pending: _PendingPledges, payouts_taken: set[int]
) -> BankStatementLine:
    """One new line, not yet saved: a credit whose reference names one pending pledge confirms
    it when it brings exactly the pledged amount (the caller books it); any other amount or
    currency, or an amount above the per-donation maximum, waits for finance
    (LineStatus.REVIEW), never booked by itself."""
    row = BankStatementLine(
        statement=statement, key=line.key, booked_on=line.booked_on, amount=line.amount, currency=line.currency
    )
    donation, elsewhere = _named_donation(row, line, pending) if _matchable(line) else (None, False)
    if line.reversal:
        # A returned or reversed transfer: never booked automatically.
        row.status, row.text = LineStatus.REVERSAL, line.text
    elif not line.is_credit:
        _outgoing_line(row, line, payouts_taken)
    elif donation is not None and (elsewhere or _differs(line, donation)):
        row.status, row.donation, row.pledged, row.text = LineStatus.REVIEW, donation, donation.amount, line.text
    elif donation is not None:
        row.status, row.donation = LineStatus.MATCHED, donation
    else:
        row.status, row.text = LineStatus.UNMATCHED, line.text
    return row


def _named_donation(
    row: BankStatementLine, line: StatementLine, pending: _PendingPledges
) -> tuple[Donation | None, bool]:
    """The pending pledge the line names, or the new month of the standing order it names
    (a stopped one's: None, the line waits for finance naming it); and True when that month
    has nowhere to go (finance decides)."""
    named = pending.take(line)
    if not isinstance(named, MonthlyGift):
        return named, False
    row.monthly_gift = named
    if named.status not in services.BOOKS_MONTHS:
        return None, False
    donation, has_destination = services.line_month(named, line_key=line.key)
    return donation, not has_destination


def _outgoing_line(row: BankStatementLine, line: StatementLine, payouts_taken: set[int]) -> None:
    """Money out: not a donation. MATCHED to the payout it paid (and booked), or OUTGOING."""
    bank_out.match_outgoing(row, text=line.text, taken=payouts_taken)


def _differs(line: StatementLine, donation: Donation) -> bool:
    return (
        line.amount != donation.amount
        or line.currency != donation.currency
        or line.amount > services.max_donation(line.currency)
    )


class _PendingPledges:
    """The pending bank pledges and the standing orders a batch's lines name, read in one query
    each (per few hundred references), then handed out line by line as ``_pending_bank_donation``
    would have found them in the file's order: a pledge a line took (matched, or sent to
    finance) is not pending for the lines after it; a standing order is never taken (each of
    its lines is a month)."""

    def __init__(self, lines: Iterable[StatementLine]):
        references: set[str] = set()
        for line in lines:
            references.update(references_in(line.text))
            references.update(near_references(line.text))
        self.by_reference: dict[str, list[Donation]] = {}
        self.standing_orders: dict[str, MonthlyGift] = {}
        ordered = sorted(references)
        for start in range(0, len(ordered), _REFERENCES_PER_QUERY):
            chunk = ordered[start : start + _REFERENCES_PER_QUERY]
            for donation in _pending_bank_pledges(chunk):
                self.by_reference.setdefault(donation.checkout_reference, []).append(donation)
            self.standing_orders.update((gift.reference, gift) for gift in services.standing_orders_named(chunk))
        self.taken: set[int] = set()

    def _named(self, references: list[str]) -> dict[tuple[str, int], Donation | MonthlyGift]:
        found: dict[tuple[str, int], Donation | MonthlyGift] = {}
        for reference in references:
            for donation in self.by_reference.get(reference, ()):
                if donation.pk not in self.taken:
                    found["pledge", donation.pk] = donation
            if (gift := self.standing_orders.get(reference)) is not None:
                found["monthly", gift.pk] = gift
        return found

    def take(self, line: StatementLine) -> Donation | MonthlyGift | None:
        """The one pending pledge or standing order the line's text names, in any currency,
        exact references first: None when none or several do."""
        exact = self._named(references_in(line.text))
        found = exact or self._named(near_references(line.text))
        if len(found) != 1:
            return None
        (named,) = found.values()
        if isinstance(named, Donation):
            self.taken.add(named.pk)
        return named


def _pending_bank_pledges(references: list[str]) -> list[Donation]:
    """The pending bank pledges with these references, unless a line waiting for finance
    already names them."""
    return list(
        Donation.objects.filter(provider="bank", status=DonationStatus.PENDING)
        .exclude(checkout_reference="")  # names the condition of the index of references: SQLite uses it only then
        .exclude(
            pk__in=BankStatementLine.objects.filter(status=LineStatus.REVIEW, donation__isnull=False).values(
                "donation_id"
            )
        )
        .filter(checkout_reference__in=references)
    )
