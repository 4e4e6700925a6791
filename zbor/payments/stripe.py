"""Stripe: Checkout Sessions (card data never touches Zbor) and verified webhooks.

What Stripe learns from Zbor about a donation: an amount, a currency, a neutral product name
and statement descriptor suffix (settings), and a random donation id. No campaign, no
beneficiary, no donor name or email.
"""

from __future__ import annotations

import logging
import re

import stripe
from stripe.params.checkout import SessionCreateParams, SessionCreateParamsPaymentIntentData

from .base import CheckoutRequest, CheckoutStart, EventType, InvalidWebhook, PaymentEvent, ProviderUnavailable

# Checkout's own languages; Belarusian is not among them, so Stripe picks from the browser.
CHECKOUT_LOCALES = {"en": "en", "ru": "ru", "pl": "pl"}

log = logging.getLogger(__name__)

#: Stripe's ids ("evt_…", "cs_…", "pi_…"): printable ASCII without spaces, as long as a column takes.
_ID = re.compile(r"[!-~]{1,255}")
#: More than any amount Stripe reports (its own limit is eight digits for most currencies).
MAX_AMOUNT = 10**12


class _Malformed(ValueError):
    """A verified event lacks a field Zbor reads, or has it in another form."""


def _id(value, *, optional: bool = False) -> str:
    if optional and value in (None, ""):
        return ""
    if isinstance(value, str) and _ID.fullmatch(value):
        return value
    raise _Malformed("an id is missing or malformed")


def _amount(value) -> int:
    # An int of minor units, never a bool, a float or a string: money is never guessed.
    if type(value) is int and 0 <= value <= MAX_AMOUNT:
        return value
    raise _Malformed("an amount is missing or malformed")


def _currency(value) -> str:
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z]{3}", value):
        return value.upper()
    raise _Malformed("a currency is missing or malformed")


class StripeProvider:
    name = "stripe"
    redirects = True
    local_checkout = False
    needs_challenge = True
    checkout_origins: tuple[str, ...] = ("https://checkout.stripe.com",)

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
        payment_intent_data: SessionCreateParamsPaymentIntentData = {"description": self.product_name}
        if self.descriptor_suffix:
            payment_intent_data["statement_descriptor_suffix"] = self.descriptor_suffix
        params: SessionCreateParams = {
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
        if not session.url:
            raise ProviderUnavailable("Stripe returned a checkout session without a URL")
        return CheckoutStart(redirect_url=session.url, provider_reference=session.id)

    def parse_webhook(self, body: bytes, headers: dict[str, str]) -> PaymentEvent | None:
        try:
            event = self.client.construct_event(
                body, headers.get("stripe-signature", ""), self.webhook_secret, tolerance=self.tolerance
            )
        except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError) as exc:
            # ValueError covers a body that is not JSON (json.JSONDecodeError is one).
            raise InvalidWebhook(str(exc)) from None
        except AttributeError:  # signed JSON that is not an object: the SDK cannot read it
            raise InvalidWebhook("the event is not a JSON object") from None
        try:
            return self._reduce(event)
        except (_Malformed, AttributeError, KeyError, TypeError) as exc:
            # Verified, but not the shape Zbor reads (another API version?): refused (Stripe
            # delivers it again), logged, and no amount is ever guessed from it.
            log.error("a verified Stripe event is malformed: %s", exc)
            raise InvalidWebhook(f"malformed event: {exc}") from None

    def _reduce(self, event) -> PaymentEvent | None:
        kind = event.type
        obj = event.data.object
        if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
            if getattr(obj, "payment_status", None) != "paid":
                return None  # an async method (a bank debit) still pending: its own event follows
            return self._succeeded(_id(event.id), obj)
        if kind == "checkout.session.async_payment_failed":
            return PaymentEvent(
                "stripe",
                _id(event.id),
                EventType.FAILED,
                checkout_reference=_id(obj.id),
                payment_reference=_id(getattr(obj, "payment_intent", None), optional=True),
            )
        if kind == "checkout.session.expired":
            return PaymentEvent("stripe", _id(event.id), EventType.EXPIRED, checkout_reference=_id(obj.id))
        if kind == "charge.refunded":
            return PaymentEvent(
                "stripe",
                _id(event.id),
                EventType.REFUNDED,
                payment_reference=_id(getattr(obj, "payment_intent", None), optional=True),
                amount=_amount(obj.amount_refunded),
                currency=_currency(obj.currency),
                extra={"charge": _id(obj.id)},
            )
        if kind in ("charge.dispute.created", "charge.dispute.funds_reinstated"):
            if str(getattr(obj, "status", "")).startswith("warning_"):
                return None  # an inquiry: Stripe takes no money (yet); a real dispute follows if any
            return PaymentEvent(
                "stripe",
                _id(event.id),
                EventType.DISPUTED if kind == "charge.dispute.created" else EventType.DISPUTE_REINSTATED,
                payment_reference=_id(getattr(obj, "payment_intent", None), optional=True),
                amount=_amount(obj.amount),
                currency=_currency(obj.currency),
                extra={"charge": _id(getattr(obj, "charge", None), optional=True), "dispute": _id(obj.id)},
            )
        return None

    def _succeeded(self, event_id: str, session) -> PaymentEvent:
        payment_intent = _id(getattr(session, "payment_intent", None), optional=True)
        checkout_reference, amount, currency = (
            _id(session.id),
            _amount(session.amount_total),
            _currency(session.currency),
        )
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
                if balance and not isinstance(balance, str) and getattr(balance, "currency", "").upper() == currency:
                    fee = int(balance.fee)
        return PaymentEvent(
            "stripe",
            event_id,
            EventType.SUCCEEDED,
            checkout_reference=checkout_reference,
            payment_reference=payment_intent,
            amount=amount,
            currency=currency,
            fee=fee,
            extra={"charge": charge_id},
        )
