"""What the metrics read from the database (zbor/donations/metrics.py): donations by provider and
status, the unmatched bank lines and the oldest, stranded and attention events, receipts due,
and the last `zbor reconcile` (recorded by the command, clean or not)."""

import datetime
import io
import uuid

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories
from zbor.donations import metrics as donation_metrics
from zbor.donations import services
from zbor.donations.models import Donation, DonationStatus, LineStatus, ReconcileRun
from zbor.donations.tests.test_stranded_events import statement_line
from zbor.payments.models import EventStatus, PaymentEventRecord

pytestmark = pytest.mark.django_db


def gauges() -> dict[str, dict]:
    return {g.name: g.samples for g in donation_metrics.database_metrics()}


def pledge(campaign, provider: str = "demo", **fields) -> Donation:
    donation = services.start_donation(
        campaign, amount=2500, need=None, provider=provider, idempotency_key=uuid.uuid4().hex
    )
    if "provider_typo" in fields:
        fields["provider"] = fields.pop("provider_typo")
    if fields:
        Donation.objects.filter(pk=donation.pk).update(**fields)
    return donation


def test_an_empty_site_reads_zero_everywhere_and_reconcile_never_ran():
    found = gauges()
    assert found["zbor_donations"] == {}
    assert found["zbor_bank_lines_unmatched"] == {(): 0}
    assert found["zbor_bank_lines_unmatched_oldest_age_seconds"] == {(): 0.0}
    assert found["zbor_payment_events_stranded"] == {(): 0}
    assert found["zbor_payment_events_attention"] == {(): 0}
    assert found["zbor_receipts_unsent"] == {("receipt",): 0, ("credit_note",): 0}
    assert found["zbor_reconcile_last_run_timestamp_seconds"] == {(): 0.0}
    assert found["zbor_reconcile_differences"] == {(): -1.0}


def test_donations_are_counted_by_provider_and_status_and_an_unknown_provider_is_other(campaign):
    pledge(campaign)
    pledge(campaign)
    pledge(campaign, provider="bank")
    pledge(campaign, status=DonationStatus.FAILED)
    # A provider no registry names (a row written by hand): never a label of its own.
    pledge(campaign, provider="bank", provider_typo="from-prison-x")
    assert gauges()["zbor_donations"] == {
        ("demo", "pending"): 2,
        ("bank", "pending"): 1,
        ("demo", "failed"): 1,
        ("other", "pending"): 1,
    }


def test_waiting_work_is_counted_with_the_age_of_the_oldest(campaign):
    statement_line(days_ago=3, status=LineStatus.UNMATCHED)
    statement_line(days_ago=1, status=LineStatus.REVERSAL)
    statement_line(days_ago=9, status=LineStatus.ASSIGNED, text="")
    long_ago = timezone.now() - datetime.timedelta(hours=2)
    pledge(campaign, status=DonationStatus.SUCCEEDED, email="a@example.org", succeeded_at=long_ago)
    pledge(campaign, status=DonationStatus.SUCCEEDED, email="", succeeded_at=long_ago)  # no receipt asked
    sent = timezone.now()
    pledge(campaign, status=DonationStatus.SUCCEEDED, email="b@example.org", succeeded_at=sent, receipt_sent_at=sent)
    for n, (status, minutes) in enumerate(
        [(EventStatus.RECEIVED, 10), (EventStatus.FAILED, 20), (EventStatus.RECEIVED, 1), (EventStatus.ATTENTION, 60)]
    ):
        record = PaymentEventRecord.objects.create(
            provider="demo", event_id=f"evt_{n}", type="succeeded", status=status
        )
        PaymentEventRecord.objects.filter(pk=record.pk).update(
            received_at=timezone.now() - datetime.timedelta(minutes=minutes)
        )
    PaymentEventRecord.objects.create(provider="demo", event_id="evt_review", type="succeeded", status="review")

    found = gauges()
    assert found["zbor_bank_lines_unmatched"] == {(): 2}
    assert found["zbor_bank_lines_unmatched_oldest_age_seconds"][()] == pytest.approx(3 * 86400, abs=60)
    assert found["zbor_payment_events_stranded"] == {(): 2}  # the fresh one is not stranded yet
    assert found["zbor_payment_events_attention"] == {(): 2}
    assert found["zbor_receipts_unsent"] == {("receipt",): 1, ("credit_note",): 0}
    assert found["zbor_receipts_unsent_oldest_age_seconds"][()] == pytest.approx(7200, abs=60)


def test_the_scrape_reads_the_database_in_a_few_queries(campaign):
    for _ in range(5):
        pledge(campaign)
    with CaptureQueriesContext(connection) as queries:
        gauges()
    assert len(queries) == 6


def test_each_reconcile_run_is_recorded_clean_or_with_its_count_of_differences(campaign):
    call_command("reconcile", stdout=io.StringIO())
    found = gauges()
    assert found["zbor_reconcile_differences"] == {(): 0.0}
    assert found["zbor_reconcile_last_run_timestamp_seconds"][()] == pytest.approx(timezone.now().timestamp(), abs=60)

    statement_line(days_ago=30, status=LineStatus.UNMATCHED)
    with pytest.raises(SystemExit):
        call_command("reconcile", stdout=io.StringIO())
    assert gauges()["zbor_reconcile_differences"] == {(): 1.0}
    assert list(ReconcileRun.objects.order_by("pk").values_list("differences", "checked")) == [(0, ""), (1, "")]


def test_the_last_run_is_what_the_metrics_read():
    ReconcileRun.objects.create(differences=3)
    ReconcileRun.objects.create(differences=0)
    assert gauges()["zbor_reconcile_differences"] == {(): 0.0}


@pytest.fixture
def campaign(db):
    return factories.campaign()
