"""Exports for the accountant: donations, credit notes, monthly gifts, ledger transfers and
payouts as streamed CSV.

Dated by when the money moved, never by when a donation was started: a donation by the day its
money arrived (the bank statement line's booking day for a bank transfer, else the day the
provider confirmed it and the ledger booked it), a payout by the day it was paid, a transfer by
the day it was booked. Date filters are inclusive days in the foundation's time zone.

No donor personal data: no email, no public name, no message. What finance needs to book the
money: amounts, fees, refunds, the bank reference and statement line that prove it arrived, the
receipt number, need, channel and ledger account names; for payouts who requested and who
approved them (staff usernames, never the recipient). A month of a monthly gift names its
gift (``monthly_gift``: the short id the monthly gifts export, ``monthly_reports.py``, has).
Rows are read in chunks, so a year never sits in memory; the CSV writer
(zbor.accounts.admin.stream_csv) keeps any text from running as a formula.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import DateField, OuterRef, Subquery
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import get_language

from zbor.campaigns.selectors import need_names
from zbor.disbursements.models import Payout, PayoutStatus
from zbor.ledger.models import Account, Transfer
from zbor.ledger.names import account_names
from zbor.money import Money
from zbor.payments import registry

from .models import BankStatementLine, CreditNote, Donation


def _range(field: str, start: date | None, end: date | None) -> dict:
    tz = timezone.get_current_timezone()
    filters = {}
    if start:
        filters[f"{field}__gte"] = datetime.combine(start, time.min, tz)
    if end:
        filters[f"{field}__lt"] = datetime.combine(end + timedelta(days=1), time.min, tz)
    return filters


def _days(field: str, start: date | None, end: date | None) -> dict:
    return {**({f"{field}__gte": start} if start else {}), **({f"{field}__lte": end} if end else {})}


def _major(amount: int, currency: str) -> str:
    return str(Money(amount, currency).as_decimal())


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


DONATION_HEADER = [
    "donation",
    "arrived",
    "succeeded",
    "started",
    "campaign",
    "need",
    "method",
    "status",
    "currency",
    "amount",
    "fee",
    "refunded",
    "disputed",
    "receipt",
    "bank_reference",
    "statement_line",
    "payment_reference",
    "monthly_gift",
]


def arrived_donations(start: date | None, end: date | None):
    """Donations whose money arrived between ``start`` and ``end``, by the day it arrived."""
    line = BankStatementLine.objects.filter(donation=OuterRef("pk"))
    return (
        Donation.objects.filter(succeeded_at__isnull=False)
        .annotate(
            line_key=Subquery(line.values("key")[:1]),
            arrived_on=Coalesce(
                Subquery(line.values("booked_on")[:1]), TruncDate("succeeded_at"), output_field=DateField()
            ),
        )
        .filter(**_days("arrived_on", start, end))
    )


def donation_rows(start: date | None, end: date | None):
    needs = need_names(get_language() or "en")
    rows = (
        arrived_donations(start, end)
        .order_by("arrived_on", "succeeded_at", "pk")
        .values_list(
            "public_id",
            "arrived_on",
            "succeeded_at",
            "created_at",
            "campaign__slug",
            "need_id",
            "provider",
            "status",
            "currency",
            "amount",
            "fee",
            "refunded",
            "disputed",
            "receipt_number",
            "checkout_reference",
            "line_key",
            "payment_reference",
            "monthly_gift__public_id",
        )
        .iterator(chunk_size=2000)
    )
    return DONATION_HEADER, (
        [
            str(pid)[:8],
            arrived.isoformat(),
            _iso(succeeded),
            _iso(created),
            slug,
            needs.get(need, "") if need else "",
            str(registry.label(provider)),
            status,
            cur,
            _major(amount, cur),
            _major(fee, cur),
            _major(refunded, cur),
            _major(disputed, cur),
            receipt or "",
            checkout if provider == "bank" else "",
            line_key or "",
            payment_reference,
            str(gift)[:8] if gift else "",
        ]
        for (
            pid,
            arrived,
            succeeded,
            created,
            slug,
            need,
            provider,
            status,
            cur,
            amount,
            fee,
            refunded,
            disputed,
            receipt,
            checkout,
            line_key,
            payment_reference,
            gift,
        ) in rows
    )


CREDIT_NOTE_HEADER = [
    "credit_note",
    "issued",
    "receipt",
    "receipt_issued",
    "donation",
    "method",
    "currency",
    "receipt_amount",
    "credited",
    "remaining",
    "ledger_group",
]


def credit_note_rows(start: date | None, end: date | None):
    """Credit notes by the day they were issued (the day the refund was booked), each with the
    receipt it corrects and the refund's ledger group: the receipts' amounts less the credit
    notes' is what the foundation kept of the gifts it gave receipts for."""
    rows = (
        CreditNote.objects.filter(**_range("issued_at", start, end))
        .order_by("issued_at", "pk")
        .values_list(
            "number",
            "issued_at",
            "donation__receipt_number",
            "donation__receipt_issued_at",
            "donation__public_id",
            "donation__provider",
            "donation__currency",
            "donation__amount",
            "amount",
            "remaining",
            "key",
        )
        .iterator(chunk_size=2000)
    )
    return CREDIT_NOTE_HEADER, (
        [
            number,
            _iso(issued),
            receipt or "",
            _iso(receipt_issued),
            str(pid)[:8],
            str(registry.label(provider)),
            cur,
            _major(gift, cur),
            _major(amount, cur),
            _major(remaining, cur),
            key,
        ]
        for number, issued, receipt, receipt_issued, pid, provider, cur, gift, amount, remaining, key in rows
    )


def transfer_rows(start: date | None, end: date | None):
    """Transfers by the time they were booked, each account by code and by name."""
    header = ["time", "group", "kind", "debit", "credit", "currency", "amount", "debit_name", "credit_name"]
    names = account_names(Account.objects.values_list("code", flat=True))
    rows = (
        Transfer.objects.filter(**_range("created_at", start, end))
        .order_by("pk")
        .values_list(
            "created_at", "group__key", "kind", "debit_account__code", "credit_account__code", "currency", "amount"
        )
        .iterator(chunk_size=5000)
    )
    return header, (
        [at.isoformat(), group, kind, debit, credit, cur, _major(amount, cur), names[debit], names[credit]]
        for at, group, kind, debit, credit, cur, amount in rows
    )


def monthly_gift_rows(start: date | None, end: date | None):
    """The monthly gifts that ran in the period (``monthly_reports.monthly_gift_rows``)."""
    from .monthly_reports import monthly_gift_rows  # it builds on this module's reads

    return monthly_gift_rows(start, end)


PAYOUT_HEADER = [
    "payout",
    "paid",
    "requested",
    "decided",
    "campaign",
    "need",
    "channel",
    "status",
    "currency",
    "amount",
    "requested_by",
    "approved_by",
    "paid_by",
]


def payout_rows(start: date | None, end: date | None):
    """Payouts by the day they were paid; without dates, every payout (unpaid ones too)."""
    needs = need_names(get_language() or "en")
    channels = dict(Payout._meta.get_field("channel").flatchoices)
    approved = (PayoutStatus.APPROVED, PayoutStatus.PAID)
    payouts = Payout.objects.filter(**_range("paid_at", start, end)) if start or end else Payout.objects.all()
    rows = (
        payouts.order_by(Coalesce("paid_at", "requested_at"), "pk")
        .values_list(
            "pk",
            "paid_at",
            "requested_at",
            "decided_at",
            "campaign__slug",
            "need_id",
            "channel",
            "status",
            "currency",
            "amount",
            "requested_by__username",
            "decided_by__username",
            "paid_by__username",
        )
        .iterator(chunk_size=2000)
    )
    return PAYOUT_HEADER, (
        [
            pk,
            _iso(paid),
            _iso(requested),
            _iso(decided),
            slug,
            needs.get(need, ""),
            str(channels.get(channel, channel)),
            status,
            cur,
            _major(amount, cur),
            requester or "",
            (decider or "") if status in approved else "",
            payer or "",
        ]
        for (
            pk,
            paid,
            requested,
            decided,
            slug,
            need,
            channel,
            status,
            cur,
            amount,
            requester,
            decider,
            payer,
        ) in rows
    )


EXPORTS = {
    "donations": ("donations.export_donations", donation_rows),
    "credit_notes": ("donations.export_donations", credit_note_rows),
    "ledger": ("ledger.export_ledger", transfer_rows),
    "payouts": ("disbursements.export_payouts", payout_rows),
    "monthly_gifts": ("donations.export_donations", monthly_gift_rows),
}
