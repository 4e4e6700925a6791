"""A monthly card gift end to end (issue 18): started through the services, paid at the local
fake Stripe (tests/fake_stripe.py and its Billing), each webhook signed by the SDK's own code and
posted to the real /webhooks/stripe/ endpoint. Every month is a donation booked in the ledger
exactly once, whatever the order and however often Stripe delivers; what the donor or Stripe
changes is followed. Stops, refunds, disputes and privacy: test_stripe_monthly_ends.py."""

import uuid

import pytest

from tests import factories
from tests.fake_stripe import FEE, stripe_enabled
from zbor.donations import services
from zbor.donations.models import Donation, DonationStatus, MonthlyStatus
from zbor.donations.reconcile import reconcile
from zbor.donations.tests.stripe_monthly import (
    SECRET,
    booked,
    collected,
    completed,
    first_invoice,
    first_invoice_of,
    months,
    post,
    start,
)
from zbor.payments.models import EventStatus, PaymentEventRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake(settings):
    with stripe_enabled(settings, SECRET) as fake:
        yield fake


def test_a_card_gift_starts_and_each_month_is_booked_once(client, campaign, fake):
    gift = start(campaign)
    assert gift.status == MonthlyStatus.PENDING and gift.checkout_reference.startswith("cs_test_")
    assert gift.checkout_url.startswith("https://checkout.stripe.test/pay/")

    session = completed(client, fake, gift)
    assert gift.status == MonthlyStatus.ACTIVE and gift.started_at
    assert gift.reference == session["subscription"] and gift.reference.startswith("sub_")
    assert gift.customer_reference == session["customer"] and gift.customer_reference.startswith("cus_")

    invoice = first_invoice(fake, gift)
    event_id = f"evt_{uuid.uuid4().hex[:16]}"
    assert post(client, "invoice.paid", invoice, event_id=event_id) == EventStatus.PROCESSED
    [month] = months(gift)
    assert (month.status, month.amount, month.currency, month.campaign_id) == (
        DonationStatus.SUCCEEDED,
        1000,
        "EUR",
        campaign.pk,
    )
    assert month.checkout_reference == invoice["id"]
    assert month.payment_reference == fake.billing.invoice_payments[invoice["id"]][0]["payment"]["payment_intent"]
    assert month.charge_reference == "ch_" + month.payment_reference[3:] and month.fee == FEE
    assert collected(campaign) == 1000 and booked(month) == 1

    # Stripe delivers the same event again, and the same invoice under another event id.
    assert post(client, "invoice.paid", invoice, event_id=event_id) == EventStatus.PROCESSED
    assert post(client, "invoice.paid", invoice) == EventStatus.PROCESSED
    assert months(gift) == [month] and booked(month) == 1 and collected(campaign) == 1000

    # The second month.
    second = fake.billing.bill(gift.reference)
    assert post(client, "invoice.paid", second) == EventStatus.PROCESSED
    assert [m.checkout_reference for m in months(gift)] == [invoice["id"], second["id"]]
    assert all(m.status == DonationStatus.SUCCEEDED for m in months(gift))
    assert collected(campaign) == 2000
    gift.refresh_from_db()
    assert gift.status == MonthlyStatus.ACTIVE and gift.last_paid_at
    assert reconcile().ok, reconcile().lines()


def test_a_month_paid_before_the_checkout_completed_is_booked_once_it_does(client, campaign, fake):
    """Stripe does not promise an order: the first invoice's ``invoice.paid`` may arrive before
    ``checkout.session.completed``. It waits (deferred), and is booked when the gift starts."""
    gift = start(campaign)
    session = fake.billing.complete_checkout(gift.checkout_reference)
    invoice = dict(next(iter(fake.billing.invoices.values())))
    assert post(client, "invoice.paid", invoice) == EventStatus.DEFERRED
    assert months(gift) == [] and collected(campaign) == 0

    assert post(client, "checkout.session.completed", session) == EventStatus.PROCESSED
    gift.refresh_from_db()
    [month] = months(gift)
    assert gift.status == MonthlyStatus.ACTIVE and gift.reference == session["subscription"]
    assert month.status == DonationStatus.SUCCEEDED and collected(campaign) == 1000
    assert PaymentEventRecord.objects.filter(status=EventStatus.DEFERRED).count() == 0

    # The invoice delivered again later, and the checkout's completion too: nothing more.
    assert post(client, "invoice.paid", invoice) == EventStatus.PROCESSED
    assert post(client, "checkout.session.completed", session) == EventStatus.PROCESSED
    assert months(gift) == [month] and booked(month) == 1 and collected(campaign) == 1000
    assert reconcile().ok, reconcile().lines()


def test_a_failed_month_makes_the_gift_failing_until_a_month_is_paid(client, campaign, fake):
    gift = start(campaign)
    completed(client, fake, gift)
    post(client, "invoice.paid", first_invoice(fake, gift))

    failed = fake.billing.bill(gift.reference, paid=False)
    assert post(client, "invoice.payment_failed", failed) == EventStatus.PROCESSED
    gift.refresh_from_db()
    assert gift.status == MonthlyStatus.FAILING
    assert len(months(gift)) == 1 and collected(campaign) == 1000  # nothing booked for a failure

    # Stripe's retry succeeds: its invoice is paid.
    retried = fake.billing.bill(gift.reference)
    assert post(client, "invoice.paid", retried) == EventStatus.PROCESSED
    gift.refresh_from_db()
    assert gift.status == MonthlyStatus.ACTIVE and collected(campaign) == 2000


def test_what_the_donor_changes_at_stripe_is_reflected(client, campaign, fake):
    """A subscription changed outside Zbor (the Dashboard, a support request): Zbor follows."""
    gift = start(campaign)
    completed(client, fake, gift)
    subscription = fake.billing.subscriptions[gift.reference]
    subscription["items"]["data"][0]["price"]["unit_amount"] = 2500
    assert post(client, "customer.subscription.updated", fake.billing.subscription(gift.reference)) == "processed"
    gift.refresh_from_db()
    assert (gift.amount, gift.status) == (2500, MonthlyStatus.ACTIVE)

    subscription["pause_collection"] = {"behavior": "void", "resumes_at": None}
    post(client, "customer.subscription.updated", fake.billing.subscription(gift.reference))
    gift.refresh_from_db()
    assert gift.status == MonthlyStatus.PAUSED

    subscription["pause_collection"] = None
    post(client, "customer.subscription.updated", fake.billing.subscription(gift.reference))
    gift.refresh_from_db()
    assert gift.status == MonthlyStatus.ACTIVE

    # The next month is billed at the new amount and booked at it.
    assert post(client, "invoice.paid", fake.billing.bill(gift.reference)) == EventStatus.PROCESSED
    assert [m.amount for m in months(gift)] == [2500] and collected(campaign) == 2500


def test_what_the_donor_changes_in_zbor_reaches_stripe_and_its_echo_changes_nothing(client, campaign, fake):
    gift = start(campaign)
    completed(client, fake, gift)
    services.change_monthly_amount(gift, amount=1500)
    assert fake.billing.subscriptions[gift.reference]["items"]["data"][0]["price"]["unit_amount"] == 1500
    services.pause_monthly(gift)
    assert fake.billing.subscriptions[gift.reference]["pause_collection"] == {"behavior": "void", "resumes_at": None}
    # Stripe tells Zbor what Zbor asked: the same state.
    post(client, "customer.subscription.updated", fake.billing.subscription(gift.reference))
    gift.refresh_from_db()
    assert (gift.amount, gift.status) == (1500, MonthlyStatus.PAUSED)
    services.resume_monthly(gift)
    assert fake.billing.subscriptions[gift.reference]["pause_collection"] is None
    post(client, "customer.subscription.updated", fake.billing.subscription(gift.reference))
    gift.refresh_from_db()
    assert (gift.amount, gift.status) == (1500, MonthlyStatus.ACTIVE)


def test_a_month_of_another_amount_waits_for_finance(client, campaign, fake):
    gift = start(campaign)
    completed(client, fake, gift)
    post(client, "invoice.paid", first_invoice(fake, gift))
    odd = fake.billing.bill(gift.reference)
    odd["amount_paid"] = 1700  # e.g. the price changed at Stripe and its update never arrived
    assert post(client, "invoice.paid", odd) == EventStatus.REVIEW
    record = PaymentEventRecord.objects.get(checkout_reference=odd["id"])
    assert record.pledged == 1000
    assert Donation.objects.get(checkout_reference=odd["id"]).status == DonationStatus.PENDING
    assert collected(campaign) == 1000
    assert not reconcile().ok  # finance is told

    services.accept_payment(record, by=factories.role_user("finance"))
    assert collected(campaign) == 2700


def test_a_change_delivered_before_the_start_waits_for_it(client, campaign, fake):
    """A subscription's update (or its end) can overtake the checkout's completion too."""
    gift = start(campaign)
    session = fake.billing.complete_checkout(gift.checkout_reference)
    fake.billing.subscriptions[session["subscription"]]["items"]["data"][0]["price"]["unit_amount"] = 1200
    assert post(client, "customer.subscription.updated", fake.billing.subscription(session["subscription"])) == (
        EventStatus.DEFERRED
    )
    post(client, "checkout.session.completed", session)
    gift.refresh_from_db()
    assert (gift.status, gift.amount) == (MonthlyStatus.ACTIVE, 1200)
    assert not PaymentEventRecord.objects.filter(status=EventStatus.DEFERRED).exists()


def test_a_month_deferred_while_its_start_is_being_handled_is_not_left_waiting(client, campaign, fake, monkeypatch):
    """Two deliveries at once: ``invoice.paid`` finds no gift, and before it is marked deferred
    the checkout's completion is handled in full, its look for waiting events included (so it
    finds none). The month must not wait for ever: it looks again once it is marked."""
    from zbor.donations import monthly_events

    gift = start(campaign)
    session = fake.billing.complete_checkout(gift.checkout_reference)
    real, raced = monthly_events.gift_of, []

    def racing(event):
        if event.type == "monthly_paid" and not raced:
            raced.append(event.event_id)
            assert post(client, "checkout.session.completed", session) == EventStatus.PROCESSED
            return None  # what it read before the other delivery committed
        return real(event)

    monkeypatch.setattr(monthly_events, "gift_of", racing)
    assert post(client, "invoice.paid", first_invoice_of(fake, session)) == EventStatus.PROCESSED
    assert raced and [m.status for m in months(gift)] == [DonationStatus.SUCCEEDED]
    assert collected(campaign) == 1000
