"""Stripe: Checkout Sessions (card data never touches Zbor) and verified webhooks.

What Stripe learns from Zbor about a donation: an amount, a currency, a neutral product name
and statement descriptor suffix (settings), and a random donation id. No campaign, no
beneficiary, no donor name or email. Monthly gifts (subscriptions) are in ``stripe_monthly``.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import stripe
from stripe.params.checkout import SessionCreateParams, SessionCreateParamsPaymentIntentData

from zbor.money import is_currency, minor_digits

from .base import (
    CheckoutRequest,
    CheckoutStart,
    EventType,
    InvalidWebhook,
    PaymentEvent,
    ProviderUnavailable,
    RefundRefused,
    RefundRequest,
    RefundResult,
    RefundState,
    RefundUnanswered,
)
from .stripe_billing import StripeBillingReads
from .stripe_fields import CHECKOUT_LOCALES, _amount, _currency, _id, _Malformed, charge_and_fee
from .stripe_monthly import StripeSubscriptions

log = logging.getLogger(__name__)


class StripeProvider(StripeSubscriptions, StripeBillingReads):
    name = "stripe"
    redirects = True
    local_checkout = False
    needs_challenge = True
    checkout_origins: tuple[str, ...] = ("https://checkout.stripe.com",)
    refunds_at_provider = True
    #: Monthly gifts by card: Stripe subscriptions, in ``stripe_monthly.StripeSubscriptions``.
    monthly = True

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

    def refund(self, request: RefundRequest) -> RefundResult:
        """A refund through Stripe's Refunds API. The idempotency key comes from Zbor's refund:
        the SDK's own retries and a second approval send the same key, and Stripe answers them
        with the refund it made the first time, never a second one."""
        try:
            refund = self.client.v1.refunds.create(
                {
                    "payment_intent": request.payment_reference,
                    "amount": request.amount,
                    "reason": "requested_by_customer",
                    "metadata": {"zbor_refund": request.zbor_refund},
                },
                {"idempotency_key": request.idempotency_key},
            )
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError, stripe.IdempotencyError) as exc:
            # No answer, "try later", or the same key still being answered for another approval:
            # the refund may or may not exist; asking again with the same key tells.
            raise RefundUnanswered(f"{type(exc).__name__}: {exc.user_message or exc}") from exc
        except stripe.StripeError as exc:
            code = getattr(exc, "code", None)
            message = exc.user_message or str(exc)
            raise RefundRefused(f"{message} ({code})" if code else message) from exc
        try:
            state = RefundState(str(refund.status))
            return RefundResult(
                provider_refund_id=_id(refund.id),
                state=state,
                amount=_amount(refund.amount),
                failure_reason=str(getattr(refund, "failure_reason", None) or ""),
            )
        except (ValueError, _Malformed, AttributeError) as exc:
            # Stripe made something Zbor cannot read: not booked; its event will say more.
            raise RefundUnanswered(f"Stripe's answer is not readable: {exc}") from exc

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
        if kind.startswith("checkout.session.") and getattr(obj, "mode", None) == "subscription":
            return self._subscription_checkout(event)  # a monthly gift's checkout: stripe_monthly
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
        if kind in ("refund.created", "refund.updated", "refund.failed", "charge.refund.updated"):
            metadata = getattr(obj, "metadata", None)  # a StripeObject: read by attribute
            status = str(getattr(obj, "status", "") or "")
            return PaymentEvent(
                "stripe",
                _id(event.id),
                EventType.REFUND_UPDATED,
                payment_reference=_id(getattr(obj, "payment_intent", None), optional=True),
                amount=_amount(obj.amount),
                currency=_currency(obj.currency),
                extra={
                    "refund": _id(obj.id),
                    "status": status if status in set(RefundState) else "",
                    "failure_reason": str(getattr(obj, "failure_reason", None) or "")[:200],
                    "zbor_refund": str(getattr(metadata, "zbor_refund", None) or "")[:40],
                },
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
        return self._monthly_event(event)  # invoices and subscriptions (stripe_monthly), or None

    def _succeeded(self, event_id: str, session) -> PaymentEvent:
        payment_intent = _id(getattr(session, "payment_intent", None), optional=True)
        checkout_reference, amount, currency = (
            _id(session.id),
            _amount(session.amount_total),
            _currency(session.currency),
        )
        charge_id, fee = charge_and_fee(self.client, payment_intent, currency) if payment_intent else ("", 0)
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


#: The columns of a balance-transactions export (Dashboard → Balance → Export) that Zbor reads.
EXPORT_COLUMNS = {"id", "type", "source", "amount", "fee", "currency"}
CREATED_COLUMNS = ("created (utc)", "created", "created_utc")
CHARGE_COLUMNS = ("charge_id", "charge id", "charge")


@dataclass
class BalanceExport:
    """What a Stripe balance-transactions export says, in minor units; ``problems`` are the
    lines it could not read (and a missing column, which leaves everything else empty)."""

    #: False when the export lacks a column Zbor reads: then nothing else was read.
    readable: bool = True
    rows: int = 0
    #: charge (or payment) id → (amount, fee, currency)
    charges: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    refunds_by_charge: dict[str, int] = field(default_factory=dict)
    #: refunds the export does not attribute to a charge, in total
    unattributed_refunds: int = 0
    created: list[datetime] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def period(self) -> tuple[datetime, datetime] | None:
        """The whole days the export covers (UTC), or None when it has no dates."""
        if not self.created:
            return None
        start = min(self.created).replace(hour=0, minute=0, second=0, microsecond=0)
        return start, max(self.created).replace(hour=23, minute=59, second=59, microsecond=999999)


def _minor(text: str, currency: str) -> int:
    return int(Decimal(text.replace(",", "").strip()).scaleb(minor_digits(currency)))


def parse_balance_export(data: bytes) -> BalanceExport:
    """Read a balance-transactions export (CSV, as the Dashboard writes it)."""
    export = BalanceExport()
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    header = {h.strip().lower() for h in reader.fieldnames or []}
    if not EXPORT_COLUMNS <= header:
        export.problems.append(f"Stripe export lacks the columns {sorted(EXPORT_COLUMNS - header)}")
        export.readable = False
        return export
    for number, raw in enumerate(reader, start=2):
        export.rows += 1
        _read_export_row(export, number, {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k})
    return export


def _read_export_row(export: BalanceExport, number: int, row: dict[str, str]) -> None:
    currency = row["currency"].upper()
    if not is_currency(currency):
        export.problems.append(f"Stripe export line {number}: unknown currency {row['currency']!r}")
        return
    try:
        amount, fee = _minor(row["amount"], currency), _minor(row["fee"] or "0", currency)
    except InvalidOperation:
        export.problems.append(f"Stripe export line {number}: amount {row['amount']!r} is not a number")
        return
    created = next((row[c] for c in CREATED_COLUMNS if row.get(c)), "")
    if created:
        try:
            export.created.append(datetime.fromisoformat(created.replace("Z", "")).replace(tzinfo=UTC))
        except ValueError:
            export.problems.append(f"Stripe export line {number}: date {created!r} is not readable")
    if row["type"] in ("charge", "payment"):
        export.charges[row["source"]] = (amount, fee, currency)
    elif row["type"] in ("refund", "payment_refund"):
        source = row["source"]
        charge = (
            source if source.startswith(("ch_", "py_")) else next((row[c] for c in CHARGE_COLUMNS if row.get(c)), "")
        )
        if charge:
            export.refunds_by_charge[charge] = export.refunds_by_charge.get(charge, 0) + abs(amount)
        else:
            export.unattributed_refunds += abs(amount)
