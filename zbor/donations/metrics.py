"""What the metrics read from the database at each scrape (zbor/metrics.py; docs/deploy.md,
"Metrics"): counts and ages, a few aggregate queries, each answered from an index or one pass.

Labels are providers and statuses, each checked against its fixed set: whatever a row holds,
nothing else becomes a label. No campaign, no amount, no id, no date of a single donation.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db.models import Count, Min, Q
from django.utils import timezone

from zbor import metrics
from zbor.payments.models import EventStatus, PaymentEventRecord
from zbor.payments.registry import LABELS as PROVIDERS

from . import stranded
from .models import BankStatementLine, CreditNote, Donation, DonationStatus, ReconcileRun

STATUSES = frozenset(DonationStatus.values)


def _age(now: datetime, since: datetime | None) -> float:
    return max(0.0, (now - since).total_seconds()) if since else 0.0


def donations() -> Iterator[metrics.Gauge]:
    """Donations by provider and status: one grouped count over the table."""
    counts: dict[tuple[str, ...], float] = {}
    for provider, status, n in Donation.objects.order_by().values_list("provider", "status").annotate(n=Count("*")):
        key = (provider if provider in PROVIDERS else "other", status if status in STATUSES else "other")
        counts[key] = counts.get(key, 0.0) + n
    yield metrics.Gauge(
        "zbor_donations", "Donations recorded, by provider and status.", counts, ("provider", "status")
    )


def waiting_work(now: datetime) -> Iterator[metrics.Gauge]:
    """The unmatched bank lines, stranded and attention events, and receipts due: each a count
    and (where a person or a sweep should act in time) the age of the oldest."""
    lines = BankStatementLine.objects.filter(status__in=stranded.WAITING_LINES).aggregate(
        n=Count("pk"), oldest=Min("statement__uploaded_at")
    )
    yield metrics.Gauge(
        "zbor_bank_lines_unmatched", "Bank statement lines waiting in the unmatched queue.", {(): lines["n"]}
    )
    yield metrics.Gauge(
        "zbor_bank_lines_unmatched_oldest_age_seconds",
        "Seconds since the statement of the oldest unmatched line was imported; 0 when none waits.",
        {(): _age(now, lines["oldest"])},
    )
    events = PaymentEventRecord.objects.filter(
        status__in=[*stranded.STRANDED, EventStatus.ATTENTION, EventStatus.REVIEW]
    ).aggregate(
        stranded=Count("pk", filter=Q(status__in=stranded.STRANDED, received_at__lt=now - stranded.stranded_after())),
        attention=Count("pk", filter=Q(status__in=[EventStatus.ATTENTION, EventStatus.REVIEW])),
    )
    yield metrics.Gauge(
        "zbor_payment_events_stranded",
        "Provider events received or failed longer than ZBOR_STRANDED_EVENT_SECONDS ago and not handled.",
        {(): events["stranded"]},
    )
    yield metrics.Gauge(
        "zbor_payment_events_attention",
        "Provider events waiting for finance (needs attention, or an amount that differs).",
        {(): events["attention"]},
    )
    # The receipt sweep's own condition, which its partial index (donation_receipt_due) covers.
    receipts = (
        Donation.objects.filter(status=DonationStatus.SUCCEEDED, receipt_sent_at__isnull=True)
        .exclude(email="")
        .aggregate(n=Count("pk"), oldest=Min("succeeded_at"))
    )
    notes = (
        CreditNote.objects.filter(sent_at__isnull=True, donation__receipt_sent_at__isnull=False)
        .exclude(donation__email="")
        .count()
    )
    yield metrics.Gauge(
        "zbor_receipts_unsent",
        "Receipts and credit notes due (the donor gave an email) and not sent yet, by kind.",
        {("receipt",): receipts["n"], ("credit_note",): notes},
        ("kind",),
    )
    yield metrics.Gauge(
        "zbor_receipts_unsent_oldest_age_seconds",
        "Seconds since the oldest donation whose receipt is unsent succeeded; 0 when none is due.",
        {(): _age(now, receipts["oldest"])},
    )


def reconcile_result() -> Iterator[metrics.Gauge]:
    """The last `zbor reconcile`: when it finished and how many differences it found."""
    last = ReconcileRun.objects.order_by("-finished_at", "-pk").first()
    yield metrics.Gauge(
        "zbor_reconcile_last_run_timestamp_seconds",
        "When the last zbor reconcile finished (seconds since 1970); 0 when it never ran.",
        {(): last.finished_at.timestamp() if last else 0.0},
    )
    yield metrics.Gauge(
        "zbor_reconcile_differences",
        "Differences the last zbor reconcile reported (0: clean); -1 when it never ran.",
        {(): float(last.differences) if last else -1.0},
    )


def database_metrics() -> Iterator[metrics.Gauge]:
    yield from donations()
    yield from waiting_work(timezone.now())
    yield from reconcile_result()
