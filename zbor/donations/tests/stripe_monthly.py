"""Helpers of the monthly card gift tests: a gift started through the services against the
local fake Stripe (tests/fake_stripe.py and its Billing), and webhooks signed with the SDK's own
code and posted to the real /webhooks/stripe/ endpoint."""

import uuid

from tests.fake_stripe_billing import event, signed
from zbor.donations import services
from zbor.donations.models import Donation, MonthlyGift
from zbor.donations.selectors import campaign_money
from zbor.ledger.models import TransferGroup
from zbor.payments.models import EventStatus

SECRET = "whsec_monthly_flow"
#: The address the donor typed into Zbor's form (Stripe's Checkout asks for its own, DONOR_EMAIL).
TYPED = "typed-into-zbor@example.net"


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


def first_invoice_of(fake, session: dict) -> dict:
    [invoice] = [
        i
        for i in fake.billing.invoices.values()
        if i["parent"]["subscription_details"]["subscription"] == session["subscription"]
    ]
    return dict(invoice)
