"""Stripe: Checkout Sessions (card data never touches Zbor) and verified webhooks.

What Stripe learns from Zbor about a donation: an amount, a currency, a neutral product name
and statement descriptor suffix (settings), and a random donation id. No campaign, no
beneficiary, no donor name or email.
"""

from __future__ import annotations

import stripe

from .base import CheckoutRequest, CheckoutStart, EventType, InvalidWebhook, PaymentEvent, ProviderUnavailable

# Checkout's own languages; Belarusian is not among them, so Stripe picks from the browser.
CHECKOUT_LOCALES = {"en": "en", "ru": "ru", "pl": "pl"}


class StripeProvider:
    name = "stripe"
    redirects = True
    needs_challenge = True
    checkout_origins = ("https://checkout.stripe.com",)

    def __init__(
        self,
        *,
        secret_key: str,
        webhook_secret: str,
        product_name: str,
        descriptor_suffix: str,
        api_base: str = "",
        tolerance: int = 300,
    ):
        self.webhook_secret = webhook_secret
        self.product_name = product_name
        self.descriptor_suffix = descriptor_suffix
        self.tolerance = tolerance
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=2,
        )

    def start_checkout(self, request: CheckoutRequest) -> CheckoutStart:
        payment_intent_data = {"description": self.product_name}
        if self.descriptor_suffix:
            payment_intent_data["statement_descriptor_suffix"] = self.descriptor_suffix
        params = {
            "mode": "payment",
            "submit_type": "donate",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": request.amount,
                        "product_data": {"name": self.product_name},
                    },
                }
            ],
            "payment_intent_data": payment_intent_data,
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "locale": CHECKOUT_LOCALES.get(request.language, "auto"),
        }
        try:
            session = self.client.v1.checkout.sessions.create(params, {"idempotency_key": request.idempotency_key})
        except stripe.StripeError as exc:
            raise ProviderUnavailable(f"Stripe refused the checkout: {type(exc).__name__}") from exc
        return CheckoutStart(redirect_url=session.url, provider_reference=session.id)

    def parse_webhook(self, body: bytes, headers: dict[str, str]) -> PaymentEvent | None:
        try:
            event = self.client.construct_event(
                body, headers.get("stripe-signature", ""), self.webhook_secret, tolerance=self.tolerance
            )
        except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError) as exc:
            # ValueError covers a body that is not JSON (json.JSONDecodeError is one).
            raise InvalidWebhook(str(exc)) from None
        obj = event.data.object
        kind = event.type
        if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
            if getattr(obj, "payment_status", None) != "paid":
                return None  # an async method (a bank debit) still pending: its own event follows
            return self._succeeded(event.id, obj)
        if kind == "checkout.session.async_payment_failed":
            return PaymentEvent("stripe", event.id, EventType.FAILED, checkout_reference=obj.id,
                                payment_reference=getattr(obj, "payment_intent", None) or "")
        if kind == "checkout.session.expired":
            return PaymentEvent("stripe", event.id, EventType.EXPIRED, checkout_reference=obj.id)
        if kind == "charge.refunded":
            return PaymentEvent("stripe", event.id, EventType.REFUNDED, payment_reference=getattr(obj, "payment_intent", None) or "",
                                amount=int(obj.amount_refunded), currency=obj.currency.upper(), extra={"charge": obj.id})
        if kind in ("charge.dispute.created", "charge.dispute.funds_reinstated"):
            if str(getattr(obj, "status", "")).startswith("warning_"):
                return None  # an inquiry: Stripe takes no money (yet); a real dispute follows if any
            return PaymentEvent(
                "stripe",
                event.id,
                EventType.DISPUTED if kind == "charge.dispute.created" else EventType.DISPUTE_REINSTATED,
                payment_reference=getattr(obj, "payment_intent", None) or "",
                amount=int(obj.amount),
                currency=obj.currency.upper(),
                extra={"charge": getattr(obj, "charge", ""), "dispute": obj.id},
            )
        return None

    def _succeeded(self, event_id: str, session) -> PaymentEvent:
        payment_intent = getattr(session, "payment_intent", None) or ""
        fee, charge_id = 0, ""
        if payment_intent:
            try:
                intent = self.client.v1.payment_intents.retrieve(
                    payment_intent, {"expand": ["latest_charge.balance_transaction"]}
                )
            except stripe.StripeError as exc:
                raise ProviderUnavailable(f"Stripe did not return the payment: {type(exc).__name__}") from exc
            charge = getattr(intent, "latest_charge", None)
            if charge and not isinstance(charge, str):
                charge_id = charge.id
                balance = getattr(charge, "balance_transaction", None)
                if balance and not isinstance(balance, str) and getattr(balance, "currency", "").upper() == session.currency.upper():
                    fee = int(balance.fee)
        return PaymentEvent(
            "stripe",
            event_id,
            EventType.SUCCEEDED,
            checkout_reference=session.id,
            payment_reference=payment_intent,
            amount=int(session.amount_total),
            currency=session.currency.upper(),
            fee=fee,
            extra={"charge": charge_id},
        )
