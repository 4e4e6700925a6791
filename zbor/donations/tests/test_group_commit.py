"""Confirmations to one campaign are booked in batches (group commit): services.confirm_donation.

Whoever takes a campaign's turn books every confirmation waiting, in the order they arrived,
in one transaction; the others find their work done. These tests queue confirmations the way
concurrent webhooks leave them, then check that one turn books them all exactly once, that one
which cannot be booked blocks nobody else, and (on PostgreSQL) that many payments confirmed at
once from many threads add up exactly.
"""

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from tests import factories
from tests.postgres import run_here_or_on_postgres
from zbor.donations import services
from zbor.donations.events import receive_event
from zbor.donations.models import Confirmation, Donation, DonationStatus
from zbor.donations.reconcile import reconcile
from zbor.donations.selectors import campaign_money
from zbor.donations.services import booking, posting
from zbor.ledger.models import TransferGroup
from zbor.payments.base import EventType
from zbor.payments.demo import DemoProvider
from zbor.payments.models import EventStatus, PaymentEventRecord

pytestmark = pytest.mark.django_db


def pending(campaign, amount: int, n: int = 1) -> list[Donation]:
    return [
        Donation.objects.create(
            campaign=campaign,
            amount=amount,
            currency=campaign.currency,
            provider="demo",
            checkout_reference=f"demo_{uuid.uuid4().hex}",
            idempotency_key=uuid.uuid4().hex,
        )
        for _ in range(n)
    ]


def waiting(donation: Donation, amount: int) -> None:
    """A confirmation queued by a request still waiting for the campaign's turn."""
    assert booking._queue("id = %s", [donation.pk], amount, 0, "", "", None) == (donation.pk, donation.campaign_id)


def raised(campaign) -> list[int]:
    needs = list(campaign.needs.order_by("position"))
    money = campaign_money(campaign.pk, [n.pk for n in needs])
    return [money.raised_by_need[n.pk] for n in needs]


def test_one_turn_books_every_confirmation_waiting_in_the_order_they_arrived():
    campaign = factories.campaign(needs=(30000, 20000))
    early = pending(campaign, 25000, 2)
    for donation in early:
        waiting(donation, 25000)
    last = pending(campaign, 1000)[0]

    assert services.confirm_donation(last, amount=1000) is True

    assert not Confirmation.objects.exists()
    assert set(Donation.objects.filter(campaign=campaign).values_list("status", flat=True)) == {
        DonationStatus.SUCCEEDED
    }
    assert TransferGroup.objects.filter(reference__in=[d.reference for d in [*early, last]]).count() == 3
    # In arrival order: the first two fill the first need and most of the second, the last
    # gift takes what is left of it and the rest goes beyond the goal.
    assert raised(campaign) == [30000, 20000]
    assert campaign_money(campaign.pk, []).beyond_goal == 1000
    assert reconcile().ok


def test_the_confirmed_amount_and_references_are_the_providers():
    campaign = factories.campaign(needs=(50000,))
    donation = pending(campaign, 2000)[0]
    assert services.confirm_donation(donation, amount=1900, fee=58, payment_reference="pi_1", charge_reference="ch_1")
    donation.refresh_from_db()
    assert (donation.status, donation.amount, donation.fee, donation.payment_reference, donation.charge_reference) == (
        DonationStatus.SUCCEEDED,
        1900,
        58,
        "pi_1",
        "ch_1",
    )
    assert services.confirm_donation(donation, amount=1900) is False  # booked once
    assert TransferGroup.objects.filter(reference=donation.reference).count() == 1
    assert reconcile().ok


def test_events_booked_by_another_requests_turn_are_marked_processed():
    campaign = factories.campaign(needs=(50000,))
    first, second = pending(campaign, 700, 2)
    record = PaymentEventRecord.objects.create(provider="demo", event_id="evt_waiting", type=EventType.SUCCEEDED)
    assert booking._queue("id = %s", [first.pk], 700, 0, "", "", record)
    receive_event(DemoProvider.event(second.checkout_reference, EventType.SUCCEEDED, amount=700, currency="EUR"))
    record.refresh_from_db()
    assert record.status == EventStatus.PROCESSED and record.attempts == 1 and record.processed_at
    assert set(PaymentEventRecord.objects.values_list("status", flat=True)) == {EventStatus.PROCESSED}


def test_a_confirmation_that_cannot_be_booked_blocks_nobody_else(monkeypatch):
    campaign = factories.campaign(needs=(50000,))
    broken, fine = pending(campaign, 500, 2)
    waiting(broken, 500)
    real = posting._campaign_lines

    def lines(campaign, raised, donation, amount, ledger_accounts):
        if donation.pk == broken.pk:
            raise RuntimeError("cannot be booked")
        return real(campaign, raised, donation, amount, ledger_accounts)

    monkeypatch.setattr(posting, "_campaign_lines", lines)
    # The batch fails; the request books its own confirmation alone and succeeds.
    assert services.confirm_donation(fine, amount=500) is True
    assert Donation.objects.get(pk=fine.pk).status == DonationStatus.SUCCEEDED
    assert Donation.objects.get(pk=broken.pk).status == DonationStatus.PENDING
    # The broken one's own request gets the error, and its confirmation leaves the queue so
    # that nobody else's turn fails on it again (its provider delivers the event again).
    with pytest.raises(RuntimeError):
        services.confirm_donation(broken, amount=500)
    assert not Confirmation.objects.exists()
    assert reconcile().ok


def _deliver(reference: str, amount: int) -> str:
    try:
        return receive_event(DemoProvider.event(reference, EventType.SUCCEEDED, amount=amount, currency="EUR")).status
    finally:
        connections.close_all()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_payments_confirmed_at_once_from_many_threads_are_each_booked_once():
    if not run_here_or_on_postgres(
        f"{__file__}::test_payments_confirmed_at_once_from_many_threads_are_each_booked_once"
    ):
        return

    campaign = factories.campaign(slug="many-at-once", needs=(100000, 50000))
    donations = [pending(campaign, 100 + n)[0] for n in range(120)]
    # Every payment delivered twice, as providers do, the copies racing each other.
    deliveries = [(d.checkout_reference, d.amount) for d in donations] * 2
    with ThreadPoolExecutor(max_workers=24) as pool:
        statuses = list(pool.map(lambda args: _deliver(*args), deliveries))
    assert set(statuses) == {EventStatus.PROCESSED}
    assert not Confirmation.objects.exists()
    assert Donation.objects.filter(campaign=campaign, status=DonationStatus.SUCCEEDED).count() == len(donations)
    assert TransferGroup.objects.filter(reference__in=[d.reference for d in donations]).count() == len(donations)
    expected = sum(d.amount for d in donations)
    assert campaign_money(campaign.pk, []).collected == expected
    assert raised(campaign) == [min(expected, 100000), max(0, min(expected - 100000, 50000))]
    assert set(PaymentEventRecord.objects.values_list("status", flat=True)) == {EventStatus.PROCESSED}
    report = reconcile()
    assert report.ok, report.lines()


def test_a_confirmation_whose_request_died_is_booked_by_the_periodic_sweep():
    from datetime import timedelta

    from django.utils import timezone

    campaign = factories.campaign(needs=(50000,))
    stranded, fresh = pending(campaign, 800, 2)
    waiting(stranded, 800)
    waiting(fresh, 800)
    Confirmation.objects.filter(donation=stranded).update(requested_at=timezone.now() - timedelta(minutes=5))
    assert services.book_stranded_confirmations() == 1
    assert Donation.objects.get(pk=stranded.pk).status == DonationStatus.SUCCEEDED
    # A confirmation queued a moment ago belongs to a request that is still taking its turn.
    assert list(Confirmation.objects.values_list("donation_id", flat=True)) == [fresh.pk]
