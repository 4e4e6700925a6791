"""Exports for the accountant: donations, ledger transfers and payouts as streamed CSV.

No donor personal data: no email, no public name, no message — what finance needs to book the
money (date, amount, currency, method, status, refunds, fee, campaign). Date filters are
inclusive days; rows are read in chunks, so a year of data never sits in memory.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from zbor.disbursements.models import Payout
from zbor.ledger.models import Transfer
from zbor.money import Money

from .models import Donation


def _range(field: str, start: date | None, end: date | None) -> dict:
    tz = timezone.get_current_timezone()
    filters = {}
    if start:
        filters[f"{field}__gte"] = datetime.combine(start, time.min, tz)
    if end:
        filters[f"{field}__lt"] = datetime.combine(end + timedelta(days=1), time.min, tz)
    return filters


def _major(amount: int, currency: str) -> str:
    return str(Money(amount, currency).as_decimal())


def donation_rows(start: date | None, end: date | None):
    header = [
        "donation",
        "created",
        "succeeded",
        "campaign",
        "need",
        "method",
        "status",
        "currency",
        "amount",
        "fee",
        "refunded",
        "disputed",
    ]
    rows = (
        Donation.objects.filter(**_range("created_at", start, end))
        .order_by("created_at", "pk")
        .values_list(
            "public_id",
            "created_at",
            "succeeded_at",
            "campaign__slug",
            "need_id",
            "provider",
            "status",
            "currency",
            "amount",
            "fee",
            "refunded",
            "disputed",
        )
        .iterator(chunk_size=2000)
    )
    return header, (
        [
            str(pid)[:8],
            created.isoformat(),
            succeeded.isoformat() if succeeded else "",
            slug,
            need or "",
            provider,
            status,
            cur,
            _major(amount, cur),
            _major(fee, cur),
            _major(refunded, cur),
            _major(disputed, cur),
        ]
        for pid, created, succeeded, slug, need, provider, status, cur, amount, fee, refunded, disputed in rows
    )


def transfer_rows(start: date | None, end: date | None):
    header = ["time", "group", "kind", "debit", "credit", "currency", "amount"]
    rows = (
        Transfer.objects.filter(**_range("created_at", start, end))
        .order_by("pk")
        .values_list(
            "created_at", "group__key", "kind", "debit_account__code", "credit_account__code", "currency", "amount"
        )
        .iterator(chunk_size=5000)
    )
    return header, (
        [at.isoformat(), group, kind, debit, credit, cur, _major(amount, cur)]
        for at, group, kind, debit, credit, cur, amount in rows
    )


def payout_rows(start: date | None, end: date | None):
    header = ["payout", "requested", "paid", "campaign", "need", "channel", "status", "currency", "amount"]
    rows = (
        Payout.objects.filter(**_range("requested_at", start, end))
        .order_by("requested_at", "pk")
        .values_list(
            "pk", "requested_at", "paid_at", "campaign__slug", "need_id", "channel", "status", "currency", "amount"
        )
        .iterator(chunk_size=2000)
    )
    return header, (
        [
            pk,
            requested.isoformat(),
            paid.isoformat() if paid else "",
            slug,
            need,
            channel,
            status,
            cur,
            _major(amount, cur),
        ]
        for pk, requested, paid, slug, need, channel, status, cur, amount in rows
    )


EXPORTS = {
    "donations": ("donations.export_donations", donation_rows),
    "ledger": ("ledger.export_ledger", transfer_rows),
    "payouts": ("disbursements.export_payouts", payout_rows),
}
