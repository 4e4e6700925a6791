"""Stranded provider events, found and finished; and what `zbor reconcile` says of anything
left waiting too long.

A provider's event is stored, then handled (``zbor.donations.events``). When the process dies
in between, the event stays *received*; when handling raises, it is *failed*. The provider
usually delivers it again, but not always (the demo never does, Stripe gives up after three
days), so the periodic task ``zbor.finish_stranded_events`` handles again, through the path a
delivery takes (``events.handle_stored``), every event still received or failed
``ZBOR_STRANDED_EVENT_SECONDS`` after it arrived.

- **Once, with any number of workers.** An event is *claimed* before it is handled: one
  conditional UPDATE moves its ``retry_at`` into the future and counts the attempt. A second
  worker's UPDATE then finds it not due (on PostgreSQL it waits for the first and re-reads the
  row) and takes nothing. Handling is idempotent besides (events.py), so a provider's delivery
  racing the sweep books the payment once too.
- **Back-off, then a person.** The wait after a retry doubles each time:
  ``ZBOR_STRANDED_EVENT_SECONDS`` × 1, 2, 4, 8 (5, 10, 20, 40 minutes by default). An event
  still unfinished when ``ATTEMPTS`` retries were started (they raised, or their worker died)
  is marked ATTENTION with its last error kept: finance looks (the *Payment events* screen;
  ``zbor reconcile`` lists it).

With the default 300 seconds, a payment stored at 12:00 by a process killed before booking is
booked by the run after 12:05. An event whose handling raises every time is retried at about
12:05, 12:10, 12:20, 12:40 and 13:20, and needs attention from then on. A refund that
arrives before its payment is *deferred*, not stranded: it still waits for the payment.

``problems`` is reconcile's part: the events stranded longer than that, the bank
statement lines waiting in the unmatched queue (unmatched credits and reversals) longer than
``ZBOR_UNMATCHED_LINE_DAYS`` since their statement was imported, and card refunds approved and
sent to the provider that are still not settled: unanswered for longer than
``ZBOR_STRANDED_EVENT_SECONDS`` (approving again asks again, for a day: services/refunds.py), or
answered "pending" and still so after ``ZBOR_PAYOUT_LINE_DAYS`` days. Each is one line with the
count and the oldest by its ids and dates; never a payer's text, name or account.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, F, Q, QuerySet, TextField, Value, When
from django.utils import timezone

from zbor.payments.models import EventStatus, PaymentEventRecord

from . import events
from .models import BankStatementLine, LineStatus, Refund, RefundStatus

log = logging.getLogger(__name__)

#: Retries the sweep starts before an event needs a person.
ATTEMPTS = 5
#: Events handled per run, oldest first; the rest wait for the next run.
BATCH = 100
STRANDED = (EventStatus.RECEIVED, EventStatus.FAILED)
#: The unmatched queue: lines waiting for a person in finance.
WAITING_LINES = (LineStatus.UNMATCHED, LineStatus.REVERSAL)
#: Written as the error of an event whose retries all died without recording one.
INTERRUPTED = "Interrupted"


def stranded_after() -> timedelta:
    return timedelta(seconds=settings.ZBOR_STRANDED_EVENT_SECONDS)


def stranded_events(now: datetime) -> QuerySet[PaymentEventRecord]:
    """Events still received or failed ``ZBOR_STRANDED_EVENT_SECONDS`` after they arrived."""
    return PaymentEventRecord.objects.filter(status__in=STRANDED, received_at__lt=now - stranded_after())


def _due(now: datetime) -> Q:
    return Q(retry_at__isnull=True) | Q(retry_at__lte=now)


def finish_stranded_events() -> Counter[str]:
    """Handle again each stranded event that is due, oldest first. Returns how many ended in
    each status; "" counts events another worker claimed first."""
    now = timezone.now()
    outcomes: Counter[str] = Counter()
    due = stranded_events(now).filter(_due(now)).order_by("received_at", "pk")[:BATCH]
    for record in due:
        outcomes[_retry(record, now=now)] += 1
    if outcomes:
        log.info("stranded payment events handled again: %s", dict(sorted(outcomes.items())))
    return outcomes


def _retry(record: PaymentEventRecord, *, now: datetime) -> str:
    """Claim the event and handle it; the status it ends in, or "" when it was not ours."""
    if record.attempts >= ATTEMPTS:
        return _give_up(record)
    if not _claim(record, now=now):
        return ""
    record.attempts += 1
    try:
        status = events.handle_stored(record).status
    except Exception:  # handle() logged it and recorded the error; the other events go on
        if record.attempts >= ATTEMPTS:
            record.status = EventStatus.FAILED
            return _give_up(record)
        return EventStatus.FAILED
    # Handled: no retry is coming, and the Payment events screen should not show one.
    PaymentEventRecord.objects.filter(pk=record.pk).exclude(status__in=STRANDED).update(retry_at=None)
    return status


def _claim(record: PaymentEventRecord, *, now: datetime) -> bool:
    """Take the event for one attempt, unless another worker or a delivery took it first.
    Its next retry waits ``ZBOR_STRANDED_EVENT_SECONDS`` × 2^(attempts so far)."""
    delay = stranded_after() * 2**record.attempts
    claimed = (
        PaymentEventRecord.objects.filter(pk=record.pk, status__in=STRANDED, attempts=record.attempts)
        .filter(_due(now))
        .update(attempts=F("attempts") + 1, retry_at=now + delay)
    )
    return claimed == 1


def _give_up(record: PaymentEventRecord) -> str:
    """The event had its retries: it needs a person. Its last error stays; one whose retries
    all died before recording an error says so."""
    gave_up = PaymentEventRecord.objects.filter(pk=record.pk, status__in=STRANDED, attempts=record.attempts).update(
        status=EventStatus.ATTENTION,
        retry_at=None,
        error=Case(When(error="", then=Value(INTERRUPTED)), default=F("error"), output_field=TextField()),
    )
    if not gave_up:
        return ""
    log.error(
        "%s event %s is still %s after %d attempts: it needs attention",
        record.provider,
        record.event_id,
        record.status,
        record.attempts,
    )
    return EventStatus.ATTENTION


def problems() -> list[str]:
    """Reconcile's lines for events stranded and bank lines waiting too long (none: [])."""
    now = timezone.now()
    found = (_stranded_events_problem(now), _waiting_lines_problem(now), _waiting_refunds_problem(now))
    return [line for line in found if line]


def _stranded_events_problem(now: datetime) -> str:
    stranded = stranded_events(now)
    oldest = stranded.order_by("received_at", "pk").first()
    if oldest is None:
        return ""
    error = f", last error {oldest.error}" if oldest.error else ""
    return (
        f"{stranded.count()} payment event(s) received or failed over {_duration(stranded_after())} ago and not "
        f"handled (the stranded-event task retries them); the oldest: {oldest.provider} event {oldest.event_id}, "
        f"{oldest.status} since {oldest.received_at:%Y-%m-%d %H:%M %Z}, {oldest.attempts} attempt(s){error}"
    )


def _waiting_lines_problem(now: datetime) -> str:
    days = settings.ZBOR_UNMATCHED_LINE_DAYS
    waiting = BankStatementLine.objects.filter(
        status__in=WAITING_LINES, statement__uploaded_at__lt=now - timedelta(days=days)
    )
    oldest = waiting.select_related("statement").order_by("statement__uploaded_at", "pk").first()
    if oldest is None:
        return ""
    return (
        f"{waiting.count()} bank statement line(s) waiting in the unmatched queue for over {days} days; the "
        f"oldest: line #{oldest.pk} ({oldest.status}, booked {oldest.booked_on:%Y-%m-%d}) of statement "
        f"#{oldest.statement_id}, imported {oldest.statement.uploaded_at:%Y-%m-%d}"
    )


def _waiting_refunds_problem(now: datetime) -> str:
    """Card refunds SENT and not settled in time: the provider never answered (no refund id), or
    its refund is still pending after the days a bank refund may take."""
    waiting = Refund.objects.filter(status=RefundStatus.SENT).filter(
        Q(provider_refund_id="", decided_at__lt=now - stranded_after())
        | Q(decided_at__lt=now - timedelta(days=settings.ZBOR_PAYOUT_LINE_DAYS))
    )
    oldest = waiting.order_by("decided_at", "pk").first()
    if oldest is None:
        return ""
    answer = f"pending as {oldest.provider_refund_id}" if oldest.provider_refund_id else "never answered"
    return (
        f"{waiting.count()} card refund(s) approved and sent to the provider but not settled (unanswered for over "
        f"{_duration(stranded_after())}, or pending for over {settings.ZBOR_PAYOUT_LINE_DAYS} days); the oldest: "
        f"refund #{oldest.pk} of donation #{oldest.donation_id}, approved {oldest.decided_at:%Y-%m-%d %H:%M %Z}, "
        f"{answer}. Approve it again within a day to ask again, or look it up at the provider"
    )


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds // 60} minutes" if seconds % 60 == 0 else f"{seconds} seconds"
