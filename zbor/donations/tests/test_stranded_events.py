"""Stranded provider events are found and finished; reconcile reports what waits too long.

A payment event stored but never handled (the process was killed between storing and booking)
is booked by the periodic task once it is ``ZBOR_STRANDED_EVENT_SECONDS`` old: once, however
often or however concurrently the task runs; a refund stranded with it still waits for its
payment. An event that fails every time is retried with a growing delay and then needs
attention. Until then ``zbor reconcile`` reports the stranded event, and it reports bank lines
left in the unmatched queue for longer than ``ZBOR_UNMATCHED_LINE_DAYS``.

No test sleeps: the clock the sweep and reconcile read (``stranded.timezone``) is moved.
"""

import datetime
import io
import types
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connections
from django.utils import timezone as django_timezone

from tests import factories
from tests.postgres import run_here_or_on_postgres
from zbor.donations import services, stranded
from zbor.donations.events import _store, receive_event
from zbor.donations.models import BankStatement, BankStatementLine, Donation, DonationStatus, LineStatus
from zbor.donations.reconcile import reconcile
from zbor.donations.selectors import campaign_money
from zbor.donations.services import posting
from zbor.donations.tasks import finish_stranded_events
from zbor.ledger.models import TransferGroup
from zbor.payments.base import EventType, PaymentEvent
from zbor.payments.demo import DemoProvider
from zbor.payments.models import EventStatus, PaymentEventRecord

pytestmark = pytest.mark.django_db

STRANDED_AFTER = datetime.timedelta(seconds=300)  # the default ZBOR_STRANDED_EVENT_SECONDS


@contextmanager
def clock(at: datetime.datetime):
    """The sweep and reconcile's stranded checks read ``at`` as now."""
    with mock.patch.object(stranded, "timezone", types.SimpleNamespace(now=lambda: at)):
        yield


def later(delta: datetime.timedelta = STRANDED_AFTER + datetime.timedelta(seconds=1)) -> datetime.datetime:
    return django_timezone.now() + delta


def pledge(campaign, amount: int) -> Donation:
    return services.start_donation(
        campaign, amount=amount, need=None, provider="demo", idempotency_key=uuid.uuid4().hex
    )


def paid(donation: Donation) -> PaymentEvent:
    return DemoProvider.event(
        donation.checkout_reference, EventType.SUCCEEDED, amount=donation.amount, currency=donation.currency
    )


def refunded(donation: Donation, amount: int) -> PaymentEvent:
    return PaymentEvent(
        provider="demo",
        event_id=f"demo_evt_{uuid.uuid4().hex}",
        type=EventType.REFUNDED,
        checkout_reference=donation.checkout_reference,
        payment_reference=donation.checkout_reference,
        amount=amount,
        currency=donation.currency,
    )


def booked_once(donation: Donation) -> bool:
    return TransferGroup.objects.filter(reference=donation.reference).count() == 1


def test_a_payment_stored_but_never_handled_is_booked_once_by_the_periodic_task():
    campaign = factories.campaign(needs=(50000,))
    donation = pledge(campaign, 2500)
    event = paid(donation)
    record = _store(event)  # and the process was killed before handling it
    assert record.status == EventStatus.RECEIVED

    # A moment later the request that stored it may still be handling it: nobody touches it.
    finish_stranded_events.call_local()
    assert Donation.objects.get(pk=donation.pk).status == DonationStatus.PENDING
    assert reconcile().ok

    with clock(later()):
        report = reconcile()
        assert not report.ok
        assert any("1 payment event(s)" in p and record.event_id in p for p in report.problems), report.lines()

        finish_stranded_events.call_local()
        finish_stranded_events.call_local()  # the next run finds nothing to do

        assert Donation.objects.get(pk=donation.pk).status == DonationStatus.SUCCEEDED
        assert booked_once(donation)
        assert campaign_money(campaign.pk, []).collected == 2500
        record.refresh_from_db()
        assert record.status == EventStatus.PROCESSED and record.processed_at and record.retry_at is None
        assert reconcile().ok

    # The provider delivering it again afterwards changes nothing.
    assert receive_event(event).status == EventStatus.PROCESSED
    assert booked_once(donation) and campaign_money(campaign.pk, []).collected == 2500


def test_two_workers_that_found_the_same_stranded_event_book_it_once():
    """Each worker read the event as due; the one whose claim lands first handles it, the
    other's claim finds it taken and leaves it."""
    campaign = factories.campaign(needs=(50000,))
    donation = pledge(campaign, 700)
    _store(paid(donation))
    first, second = PaymentEventRecord.objects.get(), PaymentEventRecord.objects.get()
    now = later()
    with clock(now):
        assert stranded._retry(first, now=now) == EventStatus.PROCESSED
        assert stranded._retry(second, now=now) == ""
        assert stranded.finish_stranded_events() == {}
    assert booked_once(donation) and campaign_money(campaign.pk, []).collected == 700
    assert Donation.objects.get(pk=donation.pk).status == DonationStatus.SUCCEEDED


def test_a_refund_stranded_with_its_payment_still_waits_for_it_then_applies_once():
    campaign = factories.campaign(needs=(50000,))
    donation = pledge(campaign, 4000)
    refund = _store(refunded(donation, 1500))  # arrived first, never handled
    payment = _store(paid(donation))  # arrived second, never handled
    with clock(later()):
        # Handled oldest first: the refund waits for its payment, which then applies it.
        outcomes = stranded.finish_stranded_events()
        assert outcomes == {EventStatus.DEFERRED: 1, EventStatus.PROCESSED: 1}
        refund.refresh_from_db()
        payment.refresh_from_db()
        assert (refund.status, payment.status) == (EventStatus.PROCESSED, EventStatus.PROCESSED)
        assert Donation.objects.get(pk=donation.pk).refunded == 1500
        assert campaign_money(campaign.pk, []).collected == 2500
        assert stranded.finish_stranded_events() == {}
        assert reconcile().ok


def test_a_refund_whose_payment_never_came_stays_deferred_and_is_not_stranded():
    campaign = factories.campaign(needs=(50000,))
    donation = pledge(campaign, 4000)
    refund = _store(refunded(donation, 1500))
    with clock(later()):
        assert stranded.finish_stranded_events() == {EventStatus.DEFERRED: 1}
        assert stranded.finish_stranded_events() == {}
        assert reconcile().ok
    refund.refresh_from_db()
    assert refund.status == EventStatus.DEFERRED
    assert Donation.objects.get(pk=donation.pk).status == DonationStatus.PENDING


def test_an_event_that_always_fails_is_retried_ever_later_then_needs_attention(monkeypatch):
    campaign = factories.campaign(needs=(50000,))
    donation = pledge(campaign, 900)

    def crash(*args, **kwargs):
        raise ConnectionResetError("the ledger write fails every time")

    monkeypatch.setattr(posting, "post_new_groups", crash)
    with pytest.raises(ConnectionResetError):
        receive_event(paid(donation))  # the delivery itself failed
    record = PaymentEventRecord.objects.get()
    assert (record.status, record.error) == (EventStatus.FAILED, "ConnectionResetError")

    now, delays = record.received_at + STRANDED_AFTER + datetime.timedelta(seconds=1), []
    for attempt in range(1, stranded.ATTEMPTS + 1):
        with clock(now):
            assert not reconcile().ok  # stranded, and said so
            outcome = stranded.finish_stranded_events()
        record.refresh_from_db()
        assert record.attempts == attempt
        if attempt < stranded.ATTEMPTS:
            assert outcome == {EventStatus.FAILED: 1} and record.status == EventStatus.FAILED
            with clock(record.retry_at - datetime.timedelta(seconds=1)):
                assert stranded.finish_stranded_events() == {}  # not due yet
            delays.append(int((record.retry_at - now).total_seconds()))
            now = record.retry_at
    assert delays == [300, 600, 1200, 2400]
    assert outcome == {EventStatus.ATTENTION: 1}
    assert (record.status, record.error, record.retry_at) == (EventStatus.ATTENTION, "ConnectionResetError", None)

    with clock(now + datetime.timedelta(days=1)):
        assert stranded.finish_stranded_events() == {}  # a person decides now
        report = reconcile()
    assert Donation.objects.get(pk=donation.pk).status == DonationStatus.PENDING
    assert not TransferGroup.objects.exists()
    assert report.problems == [f"demo event {record.event_id}: attention, money may have moved without being booked"]


def test_an_event_whose_retries_all_died_unrecorded_needs_attention_saying_so():
    campaign = factories.campaign(needs=(50000,))
    record = _store(paid(pledge(campaign, 900)))
    # Every retry claimed it, and its worker was killed before recording anything.
    PaymentEventRecord.objects.filter(pk=record.pk).update(attempts=stranded.ATTEMPTS, retry_at=later())
    with clock(later(datetime.timedelta(hours=1))):
        assert stranded.finish_stranded_events() == {EventStatus.ATTENTION: 1}
    record.refresh_from_db()
    assert (record.status, record.error) == (EventStatus.ATTENTION, stranded.INTERRUPTED)


def test_reconcile_names_the_count_and_the_oldest_stranded_event_and_exits_non_zero():
    campaign = factories.campaign(needs=(50000,))
    oldest = _store(paid(pledge(campaign, 100)))
    _store(paid(pledge(campaign, 200)))
    PaymentEventRecord.objects.filter(pk=oldest.pk).update(
        received_at=django_timezone.now() - datetime.timedelta(hours=2)
    )
    out = io.StringIO()
    with clock(later()), pytest.raises(SystemExit) as exit_:
        call_command("reconcile", stdout=out)
    assert exit_.value.code == 1
    (line,) = [line for line in out.getvalue().splitlines() if "payment event" in line]
    assert line.startswith("DIFFERENCE: 2 payment event(s) received or failed over 5 minutes ago")
    assert f"the oldest: demo event {oldest.event_id}, received since" in line


def statement_line(*, days_ago: int, status: str, text: str = "for Pavel, from his sister") -> BankStatementLine:
    statement = BankStatement.objects.create(lines_total=1, lines_new=1)
    BankStatement.objects.filter(pk=statement.pk).update(
        uploaded_at=django_timezone.now() - datetime.timedelta(days=days_ago)
    )
    return BankStatementLine.objects.create(
        statement=statement,
        key=uuid.uuid4().hex,
        booked_on=datetime.date(2026, 11, 2),
        amount=2000,
        currency="EUR",
        text=text,
        status=status,
    )


def test_reconcile_reports_bank_lines_waiting_in_the_unmatched_queue_too_long(settings):
    fresh = statement_line(days_ago=2, status=LineStatus.UNMATCHED)
    statement_line(days_ago=3, status=LineStatus.ASSIGNED, text="")
    assert reconcile().ok  # waiting two days is within the default seven

    oldest = statement_line(days_ago=12, status=LineStatus.REVERSAL)
    statement_line(days_ago=8, status=LineStatus.UNMATCHED)
    report = reconcile()
    assert not report.ok
    (problem,) = report.problems
    assert problem.startswith("2 bank statement line(s) waiting in the unmatched queue for over 7 days")
    assert (
        f"the oldest: line #{oldest.pk} (reversal, booked 2026-11-02) of statement #{oldest.statement_id}" in problem
    )
    assert "Pavel" not in problem and "sister" not in problem  # the payer's words are never printed

    settings.ZBOR_UNMATCHED_LINE_DAYS = 1
    (problem,) = reconcile().problems
    assert problem.startswith("3 bank statement line(s)") and f"line #{fresh.pk}" not in problem


def _sweep() -> dict:
    try:
        return dict(stranded.finish_stranded_events())
    finally:
        connections.close_all()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_workers_sweeping_at_once_book_each_stranded_payment_once():
    if not run_here_or_on_postgres(f"{__file__}::test_workers_sweeping_at_once_book_each_stranded_payment_once"):
        return

    campaign = factories.campaign(slug="stranded-at-once", needs=(100000,))
    donations = [pledge(campaign, 100 + n) for n in range(40)]
    for donation in donations:
        _store(paid(donation))
    PaymentEventRecord.objects.update(received_at=django_timezone.now() - datetime.timedelta(minutes=10))
    with ThreadPoolExecutor(max_workers=8) as pool:
        runs = list(pool.map(lambda _: _sweep(), range(8)))
    assert sum(run.get(EventStatus.PROCESSED, 0) for run in runs) == len(donations)
    assert set(PaymentEventRecord.objects.values_list("status", flat=True)) == {EventStatus.PROCESSED}
    assert all(booked_once(d) for d in donations)
    assert campaign_money(campaign.pk, []).collected == sum(d.amount for d in donations)
    assert reconcile().ok
