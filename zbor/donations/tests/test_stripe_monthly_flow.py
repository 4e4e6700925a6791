"""A monthly card gift end to end (issue 18): started through the services, paid at the local
fake Stripe (tests/fake_stripe.py and its Billing), each webhook signed by the SDK's own code and
posted to the real /webhooks/stripe/ endpoint. Every month is a donation booked in the ledger
exactly once, whatever the order and however often Stripe delivers; what Stripe's payloads say
about the donor (email, name, address) is kept nowhere."""

import json
import uuid

import pytest
from django.db.models import Q

from tests import factories
from tests.fake_stripe import FEE, stripe_enabled
from tests.fake_stripe_billing import DONOR_EMAIL, DONOR_NAME, event, signed
from zbor.donations import services
from zbor.donations.models import Donation, DonationStatus, MonthlyGift, MonthlyStatus, StopReason
from zbor.donations.receipts import send_unsent_receipts
from zbor.donations.reconcile import reconcile
from zbor.donations.selectors import campaign_money
from zbor.ledger.models import TransferGroup
from zbor.payments.models import EventStatus, PaymentEventRecord

pytestmark = pytest.mark.django_db
SECRET = "whsec_monthly_flow"
#: The address the donor typed into Zbor's form (Stripe's Checkout asks for its own, DONOR_EMAIL).
TYPED = "typed-into-zbor@example.net"


@pytest.fixture
def fake(settings):
    with stripe_enabled(settings, SECRET) as fake:
        yield fake


def start(campaign, amount: int = 1000) -> MonthlyGift:
    return services.start_monthly(
        campaign,
        amount=amount,
        provider="stripe",
        email=TYPED,
        language="pl",
        idempotency_key=uuid.uuid4().hex,
        return_url_for=lambda gift: f"https://zbor.test/pl/monthly/{gift.public_id.hex}/",
    )


def post(client, event_type: str, obj: dict, *, event_id: str = "") -> str:
    """Deliver a signed event to the real endpoint; returns what it answered (the event's status)."""
    body = event(event_type, obj, event_id=event_id)
    response = client.post("/webhooks/stripe/", body, content_type="application/json", headers=signed(body, SECRET))
    assert response.status_code == 200, response.content
    return response.content.decode()


def completed(client, fake, gift: MonthlyGift) -> dict:
    """The donor pays the checkout at Stripe and its completion is delivered."""
    session = fake.billing.complete_checkout(gift.checkout_reference)
    assert post(client, "checkout.session.completed", session) == EventStatus.PROCESSED
    gift.refresh_from_db()
    return session


def first_invoice(fake, gift: MonthlyGift) -> dict:
    """The invoice Stripe billed when the checkout completed."""
    [invoice] = [
        i
        for i in fake.billing.invoices.values()
        if i["parent"]["subscription_details"]["subscription"] == gift.reference
    ]
    return dict(invoice)


def months(gift: MonthlyGift) -> list[Donation]:
    return list(Donation.objects.filter(monthly_gift=gift).order_by("pk"))


def collected(campaign) -> int:
    return campaign_money(campaign.pk, []).collected


def booked(donation: Donation) -> int:
    return TransferGroup.objects.filter(reference=donation.reference, kind="donation").count()


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


def test_nothing_stripe_says_about_the_donor_is_kept(client, campaign, fake):
    """Stripe's payloads carry the donor's email, name and address: no row of Zbor's keeps them.
    The only address kept is the one the donor typed into Zbor's form, while the gift runs."""
    gift = start(campaign)
    completed(client, fake, gift)
    post(client, "invoice.paid", first_invoice(fake, gift))
    post(client, "invoice.payment_failed", fake.billing.bill(gift.reference, paid=False))
    post(client, "invoice.paid", fake.billing.bill(gift.reference))
    post(client, "customer.subscription.updated", fake.billing.subscription(gift.reference))
    send_unsent_receipts()

    def stored() -> str:
        rows = [
            *PaymentEventRecord.objects.values(),
            *Donation.objects.values(),
            *MonthlyGift.objects.values(),
        ]
        return json.dumps(rows, default=str)

    text = stored()
    for secret in (DONOR_EMAIL, DONOR_NAME, "Warszawa", "Prosta"):
        assert secret not in text
    assert TYPED in json.dumps(list(MonthlyGift.objects.values("email")))
    assert PaymentEventRecord.objects.count() == 5

    services.stop_monthly(gift, reason=StopReason.DONOR)
    assert TYPED not in json.dumps(list(MonthlyGift.objects.values()), default=str)
    assert not MonthlyGift.objects.filter(~Q(email="")).exists()


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


def first_invoice_of(fake, session: dict) -> dict:
    [invoice] = [
        i
        for i in fake.billing.invoices.values()
        if i["parent"]["subscription_details"]["subscription"] == session["subscription"]
    ]
    return dict(invoice)


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
