"""The demo provider: a test checkout served by Zbor itself. Never available in production.

Its page lets the donor complete, fail or cancel; each button produces the same
``PaymentEvent`` a real provider's webhook would, applied through the same path.
"""

from __future__ import annotations

import uuid

from django.urls import reverse

from .base import (
    CheckoutRequest,
    CheckoutStart,
    EventType,
    HeldInZbor,
    PaymentEvent,
    RefundRefused,
    RefundRequest,
    RefundResult,
    SubscriptionRequest,
)


class DemoProvider(HeldInZbor):
    name = "demo"
    redirects = True
    local_checkout = True
    needs_challenge = True
    checkout_origins: tuple[str, ...] = ()
    #: The foundation sends the money back by hand; Zbor books what staff approve.
    refunds_at_provider = False
    #: Monthly gifts: the same test checkout completes the first month; ``zbor
    #: demo_advance_month`` bills the next ones.
    monthly = True

    def start_checkout(self, request: CheckoutRequest) -> CheckoutStart:
        reference = f"demo_{uuid.uuid4().hex}"
        url = reverse("site:demo_checkout", kwargs={"reference": reference})
        return CheckoutStart(redirect_url=url, provider_reference=reference)

    def start_subscription(self, request: SubscriptionRequest) -> CheckoutStart:
        reference = f"demo_sub_{uuid.uuid4().hex}"
        url = reverse("site:demo_checkout", kwargs={"reference": reference})
        return CheckoutStart(redirect_url=url, provider_reference=reference)

    def parse_webhook(self, body: bytes, headers: dict[str, str]) -> PaymentEvent | None:
        return None  # the demo has no webhooks: its checkout page creates events directly

    def refund(self, request: RefundRequest) -> RefundResult:
        raise RefundRefused("refunded by hand: there is no provider to ask")

    @staticmethod
    def event(checkout_reference: str, outcome: EventType, *, amount: int, currency: str) -> PaymentEvent:
        return PaymentEvent(
            provider="demo",
            event_id=f"demo_evt_{uuid.uuid4().hex}",
            type=outcome,
            checkout_reference=checkout_reference,
            payment_reference=checkout_reference,
            amount=amount if outcome == EventType.SUCCEEDED else 0,
            currency=currency,
        )

    @staticmethod
    def subscription_started(checkout_reference: str) -> PaymentEvent:
        """The demo checkout of a monthly gift completed (its reference is the subscription's too)."""
        return PaymentEvent(
            provider="demo",
            event_id=f"demo_evt_{uuid.uuid4().hex}",
            type=EventType.SUBSCRIPTION_STARTED,
            checkout_reference=checkout_reference,
            extra={"subscription": checkout_reference, "customer": ""},
        )

    @staticmethod
    def monthly_paid(subscription: str, invoice: str, *, amount: int, currency: str) -> PaymentEvent:
        """One month of a demo gift paid; ``invoice`` names the month (one booking per invoice)."""
        return PaymentEvent(
            provider="demo",
            event_id=f"demo_evt_{invoice}",
            type=EventType.MONTHLY_PAID,
            checkout_reference=invoice,
            payment_reference=invoice,
            amount=amount,
            currency=currency,
            extra={"subscription": subscription, "invoice": invoice},
        )
