"""A monthly card gift's stops, refunds and disputes end to end through /webhooks/stripe/ against
the local fake Stripe (helpers: stripe_monthly.py), and what Stripe's payloads say about the
donor (email, name, address) kept nowhere."""

import json
import logging

import pytest
from django.db.models import Q

from tests import factories
from tests.fake_stripe import stripe_enabled
from tests.fake_stripe_billing import DONOR_EMAIL, DONOR_NAME
from zbor.accounts.models import AuditEvent
from zbor.donations import services
from zbor.donations.models import Donation, DonationStatus, MonthlyGift, MonthlyStatus, StopReason
from zbor.donations.receipts import send_unsent_receipts
from zbor.donations.reconcile import reconcile
from zbor.donations.tests.stripe_monthly import (
    SECRET,
    TYPED,
    collected,
    completed,
    first_invoice,
    months,
    post,
    start,
)
from zbor.ledger.models import TransferGroup
from zbor.payments.models import EventStatus, PaymentEventRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake(settings):
    with stripe_enabled(settings, SECRET) as fake:
        yield fake


def test_a_subscription_stripe_deleted_stops_the_gift_and_forgets_the_donor(client, campaign, fake, mailoutbox):
    gift = start(campaign)
    completed(client, fake, gift)
    post(client, "invoice.paid", first_invoice(fake, gift))
    send_unsent_receipts()  # the first month's receipt goes out
    customer = gift.customer_reference

    fake.billing.subscriptions[gift.reference]["status"] = "canceled"
    post(client, "customer.subscription.deleted", fake.billing.subscription(gift.reference))
    gift.refresh_from_db()
    assert (gift.status, gift.stop_reason) == (MonthlyStatus.STOPPED, StopReason.PROVIDER)
    assert gift.customer_reference == "" and fake.billing.customers[customer]["deleted"]
    assert not [r for r in fake.requests if r["method"] == "DELETE" and "/subscriptions/" in r["path"]]
    # The first month's receipt was sent: nothing is due, the address goes.
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [TYPED]
    assert gift.email == ""

    # Delivered again: nothing changes, nothing more is asked of Stripe.
    asked = len(fake.requests)
    post(client, "customer.subscription.deleted", fake.billing.subscription(gift.reference))
    assert len(fake.requests) == asked


def test_an_email_waits_for_the_last_receipt_before_it_is_forgotten(client, campaign, fake):
    gift = start(campaign)
    completed(client, fake, gift)
    post(client, "invoice.paid", first_invoice(fake, gift))
    assert Donation.objects.get(monthly_gift=gift).receipt_sent_at is None  # not sent yet
    post(client, "customer.subscription.deleted", fake.billing.subscription(gift.reference))
    gift.refresh_from_db()
    assert gift.status == MonthlyStatus.STOPPED and gift.email == TYPED


def test_the_donor_stops_it_in_zbor_stripe_cancels_and_forgets_the_customer(client, campaign, fake):
    gift = start(campaign)
    completed(client, fake, gift)
    post(client, "invoice.paid", first_invoice(fake, gift))
    subscription, customer = gift.reference, gift.customer_reference

    assert services.stop_monthly(gift, reason=StopReason.DONOR)
    assert fake.billing.subscriptions[subscription]["status"] == "canceled"
    assert fake.billing.customers[customer]["deleted"]
    assert (gift.status, gift.stop_reason, gift.customer_reference) == (MonthlyStatus.STOPPED, "donor", "")

    # Stripe's own event about it follows: the gift stays as it is, nothing is asked twice.
    asked = len(fake.requests)
    assert post(client, "customer.subscription.deleted", fake.billing.subscription(subscription)) == "processed"
    assert len(fake.requests) == asked
    gift.refresh_from_db()
    assert gift.stop_reason == StopReason.DONOR


def test_staff_refund_one_month_through_stripe(client, campaign, fake):
    gift = start(campaign)
    completed(client, fake, gift)
    post(client, "invoice.paid", first_invoice(fake, gift))
    post(client, "invoice.paid", fake.billing.bill(gift.reference))
    first, second = months(gift)

    people = [factories.role_user("finance", f"monthly-fin-{n}") for n in range(2)]
    refund = services.request_refund(second, amount=1000, reason="Donor asked", by=people[0])
    services.approve_refund(refund, by=people[1])
    [request] = [r for r in fake.requests if r["path"] == "/v1/refunds"]
    assert request["form"]["payment_intent"] == [second.payment_reference]
    refund.refresh_from_db()
    second.refresh_from_db()
    assert refund.status == "booked" and second.refunded == 1000
    assert collected(campaign) == 1000
    # Stripe's own events about that refund follow: booked once, not again.
    stripe_refund = fake.refunds[refund.provider_refund_id]
    assert post(client, "refund.updated", stripe_refund) == EventStatus.PROCESSED
    charge = fake.payments[second.payment_reference]
    refunded = {"object": "charge", "refunded": True, "payment_intent": second.payment_reference, **charge}
    post(client, "charge.refunded", refunded)
    second.refresh_from_db()
    assert second.refunded == 1000 and collected(campaign) == 1000
    assert TransferGroup.objects.filter(reference=second.reference, kind="refund").count() == 1
    # The gift goes on: the refund was one month's.
    gift.refresh_from_db()
    assert gift.status == MonthlyStatus.ACTIVE
    assert reconcile().ok, reconcile().lines()


def test_nothing_stripe_says_about_the_donor_is_kept(client, campaign, fake, caplog):
    """Stripe's payloads carry the donor's email, name and address: no row of Zbor's keeps them,
    and no log line. The only address kept is the one the donor typed into Zbor's form, while
    the gift runs (and a month's copy for its receipt); the audit log and the logs hold neither."""
    caplog.set_level(logging.DEBUG)
    gift = start(campaign)
    completed(client, fake, gift)
    post(client, "invoice.paid", first_invoice(fake, gift))
    post(client, "invoice.payment_failed", fake.billing.bill(gift.reference, paid=False))
    post(client, "invoice.paid", fake.billing.bill(gift.reference))
    post(client, "customer.subscription.updated", fake.billing.subscription(gift.reference))
    send_unsent_receipts()

    rows = [
        *PaymentEventRecord.objects.values(),
        *Donation.objects.values(),
        *MonthlyGift.objects.values(),
        *AuditEvent.objects.values(),
    ]
    text = json.dumps(rows, default=str)
    for secret in (DONOR_EMAIL, DONOR_NAME, "Warszawa", "Prosta"):
        assert secret not in text
        assert secret not in caplog.text
    assert TYPED not in caplog.text
    assert TYPED in json.dumps(list(MonthlyGift.objects.values("email")))
    assert PaymentEventRecord.objects.count() == 5

    services.stop_monthly(gift, reason=StopReason.DONOR)
    assert TYPED not in json.dumps([*MonthlyGift.objects.values(), *AuditEvent.objects.values()], default=str)
    assert TYPED not in caplog.text
    assert not MonthlyGift.objects.filter(~Q(email="")).exists()


def test_a_disputed_month_arriving_before_its_invoice_waits_then_takes_that_month_back(client, campaign, fake):
    """A card dispute names the PaymentIntent; it may overtake the month's ``invoice.paid``."""
    gift = start(campaign)
    completed(client, fake, gift)
    invoice = first_invoice(fake, gift)
    intent = fake.billing.invoice_payments[invoice["id"]][0]["payment"]["payment_intent"]
    dispute = {
        "id": "dp_monthly_1",
        "object": "dispute",
        "amount": 1000,
        "currency": "eur",
        "charge": "ch_" + intent[3:],
        "payment_intent": intent,
        "status": "needs_response",
    }
    assert post(client, "charge.dispute.created", dispute) == EventStatus.DEFERRED
    post(client, "invoice.paid", invoice)
    [month] = months(gift)
    assert (month.status, month.disputed) == (DonationStatus.SUCCEEDED, 1000)
    assert collected(campaign) == 0
    assert reconcile().ok, reconcile().lines()
