"""The demo provider: a test checkout served by Zbor itself. Never available in production.

Its page lets the donor complete, fail or cancel; each button produces the same
``PaymentEvent`` a real provider's webhook would, applied through the same path.
"""

from __future__ import annotations

import uuid

from django.urls import reverse

from .base import CheckoutRequest, CheckoutStart, EventType, PaymentEvent, RefundRefused, RefundRequest, RefundResult


class DemoProvider:
    name = "demo"
    redirects = True
    local_checkout = True
    needs_challenge = True
    checkout_origins: tuple[str, ...] = ()
    #: The foundation sends the money back by hand; Zbor books what staff approve.
    refunds_at_provider = False

    def start_checkout(self, request: CheckoutRequest) -> CheckoutStart:
        reference = f"demo_{uuid.uuid4().hex}"
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
