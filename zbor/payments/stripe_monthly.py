"""Stripe monthly gifts: Checkout in subscription mode, the calls that manage a subscription, and
the webhooks of subscriptions and their invoices (docs/decisions/0013-monthly-card-gifts.md).

What Stripe learns from Zbor about a monthly gift: an amount, a currency, the neutral product
name, and Zbor's random gift id as the subscription's only metadata. Zbor sends no email: Stripe's
Checkout asks the donor for one itself (a subscription's customer needs it), and Zbor deletes that
customer through the API when the gift stops.

Each month Stripe bills an invoice; ``invoice.paid`` becomes ``MONTHLY_PAID`` with the invoice
as ``checkout_reference``: the key under which that month is booked exactly once.
"""

from __future__ import annotations

import hashlib
import logging

import stripe
from stripe.params import ProductCreateParams, SubscriptionUpdateParams
from stripe.params.checkout import SessionCreateParams

from .base import CheckoutStart, EventType, PaymentEvent, ProviderUnavailable, SubscriptionRequest
from .stripe_fields import CHECKOUT_LOCALES, _amount, _currency, _id, _Malformed, charge_and_fee

log = logging.getLogger(__name__)

#: The metadata key naming Zbor's gift on a subscription (and on its invoices' snapshot).
GIFT_KEY = "zbor_gift"


def _gift(metadata) -> str:
    """Zbor's gift id from a StripeObject's metadata (read by attribute), or ""."""
    value = getattr(metadata, GIFT_KEY, None) if metadata is not None else None
    return value[:64] if isinstance(value, str) and value.isalnum() else ""


def _unavailable(action: str, exc: stripe.StripeError) -> ProviderUnavailable:
    code = getattr(exc, "code", None)
    return ProviderUnavailable(f"Stripe refused to {action}: {type(exc).__name__}" + (f" ({code})" if code else ""))


class StripeSubscriptions:
    """The monthly half of ``StripeProvider`` (which supplies ``client`` and ``product_name``)."""

    client: stripe.StripeClient
    product_name: str
    descriptor_suffix: str
    _product: str = ""

    def monthly_product(self) -> str:
        """The Product every monthly price belongs to: the neutral name, and the descriptor
        suffix as its ``statement_descriptor`` (Checkout takes no ``payment_intent_data`` in
        subscription mode, and a card payment's descriptor from the product follows the
        account's prefix, as the one-off suffix does). Its id is drawn from the two, so it is
        made once per account and settings, and found again by every process."""
        if not self._product:
            digest = hashlib.sha256(f"{self.product_name}\n{self.descriptor_suffix}".encode()).hexdigest()[:16]
            product_id = f"zbor_monthly_{digest}"
            try:
                self.client.v1.products.retrieve(product_id)
            except stripe.InvalidRequestError as exc:
                if getattr(exc, "code", None) != "resource_missing":
                    raise _unavailable("read the monthly product", exc) from exc
                params: ProductCreateParams = {"id": product_id, "name": self.product_name}
                if self.descriptor_suffix:
                    params["statement_descriptor"] = self.descriptor_suffix
                try:
                    self.client.v1.products.create(params, {"idempotency_key": product_id})
                except stripe.StripeError as exc:
                    raise _unavailable("create the monthly product", exc) from exc
            except stripe.StripeError as exc:
                raise _unavailable("read the monthly product", exc) from exc
            self._product = product_id
        return self._product

    def start_subscription(self, request: SubscriptionRequest) -> CheckoutStart:
        """A Checkout Session in subscription mode for ``amount`` a month of the neutral product.
        Stripe creates the customer itself when the donor pays (Checkout asks the email); the
        subscription carries only Zbor's gift id."""
        params: SessionCreateParams = {
            "mode": "subscription",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": request.amount,
                        "recurring": {"interval": "month"},
                        "product": self.monthly_product(),
                    },
                }
            ],
            "subscription_data": {"metadata": {GIFT_KEY: request.gift_reference}},
            "allowed_payment_method_types": ["card"],
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "locale": CHECKOUT_LOCALES.get(request.language, "auto"),
        }
        try:
            session = self.client.v1.checkout.sessions.create(params, {"idempotency_key": request.idempotency_key})
        except stripe.StripeError as exc:
            raise _unavailable("start the monthly checkout", exc) from exc
        if not session.url:
            raise ProviderUnavailable("Stripe returned a checkout session without a URL")
        return CheckoutStart(redirect_url=session.url, provider_reference=session.id)

    def cancel_subscription(self, reference: str) -> None:
        """Cancel now (no final invoice, no proration). A subscription already canceled is left
        as it is: stopping twice is not an error."""
        try:
            self.client.v1.subscriptions.cancel(reference)
        except stripe.InvalidRequestError as exc:
            try:
                subscription = self.client.v1.subscriptions.retrieve(reference)
            except stripe.StripeError:
                raise _unavailable("cancel the subscription", exc) from exc
            if subscription.status != "canceled":
                raise _unavailable("cancel the subscription", exc) from exc
        except stripe.StripeError as exc:
            raise _unavailable("cancel the subscription", exc) from exc

    def update_subscription(self, reference: str, amount: int, currency: str) -> None:
        """Charge ``amount`` from the next invoice on. The item gets a new price of the same
        product; ``proration_behavior=none``: the month already paid is neither topped up nor
        refunded."""
        try:
            subscription = self.client.v1.subscriptions.retrieve(reference)
            item = subscription["items"].data[0]
            params: SubscriptionUpdateParams = {
                "items": [
                    {
                        "id": item.id,
                        "price_data": {
                            "currency": currency.lower(),
                            "unit_amount": amount,
                            "recurring": {"interval": "month"},
                            "product": _product_id(item.price.product),
                        },
                    }
                ],
                "proration_behavior": "none",
            }
            self.client.v1.subscriptions.update(reference, params)
        except stripe.StripeError as exc:
            raise _unavailable("change the subscription's amount", exc) from exc

    def pause_subscription(self, reference: str, paused: bool) -> None:
        """Pause collection: the months while paused are voided (never owed later); resume by
        clearing it."""
        params: SubscriptionUpdateParams = {"pause_collection": {"behavior": "void"} if paused else ""}
        try:
            self.client.v1.subscriptions.update(reference, params)
        except stripe.StripeError as exc:
            raise _unavailable("pause the subscription" if paused else "resume the subscription", exc) from exc

    def delete_customer(self, customer_reference: str) -> None:
        """Delete Stripe's customer (its email, its saved card). One already deleted is fine."""
        try:
            self.client.v1.customers.delete(customer_reference)
        except stripe.InvalidRequestError as exc:
            if getattr(exc, "code", None) != "resource_missing":
                raise _unavailable("delete the customer", exc) from exc
        except stripe.StripeError as exc:
            raise _unavailable("delete the customer", exc) from exc

    # Webhooks (verified by StripeProvider.parse_webhook, which hands the event here).

    def _subscription_checkout(self, event) -> PaymentEvent | None:
        session = event.data.object
        if event.type != "checkout.session.completed":
            return None  # card only: no delayed payment; an expired checkout leaves the gift pending
        return PaymentEvent(
            "stripe",
            _id(event.id),
            EventType.SUBSCRIPTION_STARTED,
            checkout_reference=_id(session.id),
            amount=_amount(session.amount_total),
            currency=_currency(session.currency),
            extra={
                "subscription": _id(getattr(session, "subscription", None)),
                "customer": _id(getattr(session, "customer", None), optional=True),
            },
        )

    def _monthly_event(self, event) -> PaymentEvent | None:
        kind, obj = event.type, event.data.object
        if kind in ("invoice.paid", "invoice.payment_failed"):
            return self._invoice_event(_id(event.id), kind, obj)
        if kind in ("customer.subscription.updated", "customer.subscription.deleted"):
            return _subscription_event(_id(event.id), kind, obj)
        return None

    def _invoice_event(self, event_id: str, kind: str, invoice) -> PaymentEvent | None:
        subscription, gift = _invoice_subscription(invoice)
        if not subscription:
            return None  # an invoice Zbor did not start (sent by hand from the Dashboard)
        extra = {"subscription": subscription, "invoice": _id(invoice.id), "gift": gift}
        extra["customer"] = _id(getattr(invoice, "customer", None), optional=True)
        if kind == "invoice.payment_failed":
            return PaymentEvent(
                "stripe",
                event_id,
                EventType.MONTHLY_FAILED,
                checkout_reference=_id(invoice.id),
                amount=_amount(invoice.amount_due),
                currency=_currency(invoice.currency),
                extra=extra,
            )
        if _amount(invoice.amount_paid) == 0:
            return None  # nothing was paid (a zero invoice): no month to book
        return self._monthly_paid(event_id, invoice, extra)

    def invoice_paid_event(self, invoice_reference: str, event_id: str) -> PaymentEvent | None:
        """The ``MONTHLY_PAID`` event that ``invoice.paid`` makes of this invoice, read from
        Stripe now and stored under ``event_id``: for a month whose webhook never arrived
        (``zbor reconcile --book-missing-months``). None when the invoice is not a paid month of
        a subscription."""
        try:
            invoice = self.client.v1.invoices.retrieve(invoice_reference)
        except stripe.StripeError as exc:
            raise _unavailable("read the invoice", exc) from exc
        if getattr(invoice, "status", None) != "paid":
            return None
        try:
            return self._invoice_event(event_id, "invoice.paid", invoice)
        except (_Malformed, AttributeError, KeyError, TypeError) as exc:
            raise ProviderUnavailable(f"Stripe answered an invoice Zbor cannot read: {exc}") from exc

    def _monthly_paid(self, event_id: str, invoice, extra: dict) -> PaymentEvent:
        currency = _currency(invoice.currency)
        payment_intent = _invoice_payment_intent(self.client, invoice)
        charge, fee = charge_and_fee(self.client, payment_intent, currency) if payment_intent else ("", 0)
        return PaymentEvent(
            "stripe",
            event_id,
            EventType.MONTHLY_PAID,
            checkout_reference=_id(invoice.id),
            payment_reference=payment_intent,
            amount=_amount(invoice.amount_paid),
            currency=currency,
            fee=fee,
            extra={**extra, "charge": charge},
        )


def _product_id(product) -> str:
    return product if isinstance(product, str) else product.id


def _invoice_subscription(invoice) -> tuple[str, str]:
    """The subscription an invoice bills and Zbor's gift id from its metadata snapshot. Recent
    API versions name it under ``parent.subscription_details``; older ones as ``subscription``."""
    parent = getattr(invoice, "parent", None)
    details = getattr(parent, "subscription_details", None) if parent else None
    if details:
        subscription = details.subscription
        subscription = subscription if isinstance(subscription, str) else getattr(subscription, "id", None)
        return _id(subscription), _gift(getattr(details, "metadata", None))
    legacy = getattr(invoice, "subscription", None)  # before 2025-03-31: no parent
    if legacy:
        return _id(legacy if isinstance(legacy, str) else getattr(legacy, "id", None)), ""
    return "", ""


def _invoice_payment_intent(client: stripe.StripeClient, invoice) -> str:
    """The PaymentIntent that paid an invoice. Older API versions put it on the invoice; since
    2025-03-31 it is one of the invoice's payments, which a webhook does not include: asked."""
    legacy = getattr(invoice, "payment_intent", None)
    if legacy:
        return _id(legacy if isinstance(legacy, str) else getattr(legacy, "id", None))
    try:
        payments = client.v1.invoice_payments.list({"invoice": invoice.id, "status": "paid"})
    except stripe.StripeError as exc:
        raise _unavailable("list the invoice's payments", exc) from exc
    for payment in payments.data:
        details = payment.payment
        if getattr(details, "type", None) == "payment_intent":
            intent = details.payment_intent
            return _id(intent if isinstance(intent, str) else getattr(intent, "id", None))
    return ""


def _subscription_event(event_id: str, kind: str, subscription) -> PaymentEvent:
    """``customer.subscription.updated`` / ``deleted``: its status, monthly amount and pause."""
    items = subscription["items"].data
    if len(items) != 1:
        raise _Malformed("a monthly gift's subscription has one item")
    price = items[0].price
    quantity = getattr(items[0], "quantity", 1) or 1
    amount = _amount(price.unit_amount) * quantity
    extra = {
        "subscription": _id(subscription.id),
        "customer": _id(getattr(subscription, "customer", None), optional=True),
        "gift": _gift(getattr(subscription, "metadata", None)),
        "status": str(subscription.status)[:32],
        "amount": amount,
        "paused": bool(getattr(subscription, "pause_collection", None)),
    }
    return PaymentEvent(
        "stripe",
        event_id,
        EventType.SUBSCRIPTION_UPDATED if kind == "customer.subscription.updated" else EventType.SUBSCRIPTION_ENDED,
        amount=amount,
        currency=_currency(subscription.currency),
        extra=extra,
    )
