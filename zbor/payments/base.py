"""The payment provider interface. Data crosses it as frozen dataclasses, never as models.

A provider starts a checkout for a donation and turns what it later tells us (a webhook, the
demo checkout's buttons) into ``PaymentEvent``s. Zbor applies every event through one path,
whichever provider sent it.

    PaymentError                  base
    ├── ProviderUnavailable       the provider did not answer or refused; the donor may retry
    ├── RefundRefused             the provider answered a refund with an error (declined, too much)
    ├── RefundUnanswered          the provider did not answer a refund: whether it was made is unknown
    └── InvalidWebhook            a webhook failed verification (bad signature, stale, not JSON)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class PaymentError(Exception):
    pass


class ProviderUnavailable(PaymentError):
    """Starting a payment failed on the provider's side; nothing was charged."""


class RefundRefused(PaymentError):
    """The provider answered a refund with an error: nothing was refunded. ``reason`` is the
    provider's own words (and code), kept on the refund for staff."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class RefundUnanswered(PaymentError):
    """The provider did not answer a refund (network error, its server failing): it may or may
    not have been made. Asking again with the same idempotency key is safe and tells."""


class InvalidWebhook(PaymentError):
    """A webhook could not be verified; it is answered 400 and nothing is stored."""


class EventType(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    DISPUTED = "disputed"
    DISPUTE_REINSTATED = "dispute_reinstated"
    #: One refund's state changed at the provider (created, succeeded, failed): ``amount`` is that
    #: refund's, ``extra`` carries its id, status, failure reason and Zbor's refund number.
    REFUND_UPDATED = "refund_updated"
    #: Monthly gifts (``extra`` carries "subscription", "customer", "invoice" where known).
    #: The donor completed the checkout of a monthly gift: ``checkout_reference`` is its checkout.
    SUBSCRIPTION_STARTED = "subscription_started"
    #: One month was paid: ``checkout_reference`` is that month's invoice, ``amount`` what it paid.
    MONTHLY_PAID = "monthly_paid"
    #: One month's payment failed (the provider retries on its own schedule).
    MONTHLY_FAILED = "monthly_failed"
    #: The subscription changed at the provider: ``extra`` has its status, amount and paused.
    SUBSCRIPTION_UPDATED = "subscription_updated"
    #: The subscription ended at the provider: nothing more will be charged.
    SUBSCRIPTION_ENDED = "subscription_ended"


#: Events that bring a payment to book: a one-off gift's, and one month of a monthly gift's.
PAID_TYPES = (EventType.SUCCEEDED, EventType.MONTHLY_PAID)


class RefundState(StrEnum):
    """A refund's state at its provider (Stripe's own words)."""

    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


@dataclass(frozen=True)
class CheckoutRequest:
    donation_reference: str
    amount: int
    currency: str
    success_url: str
    cancel_url: str
    idempotency_key: str
    language: str = "en"


@dataclass(frozen=True)
class SubscriptionRequest:
    """Start a monthly gift of ``amount`` at the provider. ``gift_reference`` (Zbor's public id
    of the gift, hex) is the only thing sent as metadata: no campaign, no donor."""

    gift_reference: str
    amount: int
    currency: str
    success_url: str
    cancel_url: str
    idempotency_key: str
    language: str = "en"


@dataclass(frozen=True)
class CheckoutStart:
    #: Where to send the donor next (the provider's checkout page), or "" for the bank.
    redirect_url: str
    #: The provider's id for this payment attempt (a Checkout Session id, a bank reference).
    provider_reference: str


@dataclass(frozen=True)
class RefundRequest:
    """Give back ``amount`` of a payment (``payment_reference``: a PaymentIntent). The
    idempotency key is derived from Zbor's refund, so asking twice refunds once; ``zbor_refund``
    is Zbor's refund number, sent as metadata so the provider's events name it."""

    payment_reference: str
    amount: int
    currency: str
    idempotency_key: str
    zbor_refund: str


@dataclass(frozen=True)
class RefundResult:
    provider_refund_id: str
    state: RefundState
    amount: int
    #: The provider's reason when the refund failed (Stripe's ``failure_reason``).
    failure_reason: str = ""


@dataclass(frozen=True)
class PaymentEvent:
    """Something a provider says happened to a payment, reduced to what Zbor needs.

    No donor data: Stripe's payloads carry names, emails and addresses; they are not copied here.
    """

    provider: str
    event_id: str
    type: EventType
    #: The checkout this is about (Checkout Session id, bank reference), when the event names it.
    checkout_reference: str = ""
    #: The payment's own id at the provider (a PaymentIntent), linking refunds to checkouts.
    payment_reference: str = ""
    #: SUCCEEDED: the amount received. REFUNDED: the charge's cumulative refunds. DISPUTED and
    #: DISPUTE_REINSTATED: the amount the dispute withdrew or gave back.
    amount: int = 0
    currency: str = ""
    fee: int = 0
    #: What else Zbor keeps of it. A payment's ``"review"`` (a reason) sends it to finance's
    #: review whatever its amount (BTCPay: money that arrived after the invoice expired).
    extra: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {
            "type": str(self.type),
            "checkout_reference": self.checkout_reference,
            "payment_reference": self.payment_reference,
            "amount": self.amount,
            "currency": self.currency,
            "fee": self.fee,
            "extra": self.extra,
        }

    @classmethod
    def from_json(cls, provider: str, event_id: str, data: dict) -> PaymentEvent:
        return cls(
            provider=provider,
            event_id=event_id,
            type=EventType(data["type"]),
            checkout_reference=data.get("checkout_reference", ""),
            payment_reference=data.get("payment_reference", ""),
            amount=data.get("amount", 0),
            currency=data.get("currency", ""),
            fee=data.get("fee", 0),
            extra=data.get("extra", {}),
        )


class HeldInZbor:
    """The subscription calls of a provider whose monthly gifts no one else holds (the demo; a
    bank standing order, which lives at the donor's bank where Zbor cannot reach it): changing,
    pausing or ending one asks no one, and Zbor records it."""

    def cancel_subscription(self, reference: str) -> None:
        return None

    def update_subscription(self, reference: str, amount: int, currency: str) -> None:
        return None

    def pause_subscription(self, reference: str, paused: bool) -> None:
        return None

    def delete_customer(self, customer_reference: str) -> None:
        return None


class Provider(Protocol):
    name: str
    #: Whether the donor is sent to a checkout page (card) or shown instructions (bank).
    redirects: bool
    #: Whether ``start_checkout`` only draws a fresh reference, calling no one (bank, demo): the
    #: checkout is then started before the donation is written, in the same INSERT.
    local_checkout: bool
    #: Whether starting a payment needs the proof-of-work challenge (card payments: the target
    #: of card-testing bots). A bank pledge moves no money by itself and needs no JavaScript.
    needs_challenge: bool
    #: Origins the donate form's redirect may lead to (the CSP form-action allows them).
    checkout_origins: tuple[str, ...]

    #: Whether staff refunds go through the provider's API (card); False: the foundation sends
    #: the money back by hand and Zbor only books it (bank, demo).
    refunds_at_provider: bool

    #: Whether the provider offers monthly gifts (the ``*_subscription`` calls below).
    monthly: bool

    def start_checkout(self, request: CheckoutRequest) -> CheckoutStart: ...

    def start_subscription(self, request: SubscriptionRequest) -> CheckoutStart:
        """Start the checkout of a monthly gift; ``provider_reference`` is that checkout."""
        ...

    def cancel_subscription(self, reference: str) -> None:
        """End a subscription now: nothing more is charged. Ending one already ended is fine."""
        ...

    def update_subscription(self, reference: str, amount: int, currency: str) -> None:
        """Charge ``amount`` from the next month on (no proration for the current one)."""
        ...

    def pause_subscription(self, reference: str, paused: bool) -> None:
        """Pause (no charges, nothing owed later) or resume a subscription."""
        ...

    def delete_customer(self, customer_reference: str) -> None:
        """Delete the provider's customer record (its email, its saved card). Deleting one already
        deleted is fine."""
        ...

    def parse_webhook(self, body: bytes, headers: dict[str, str]) -> PaymentEvent | None:
        """Verify and read a webhook; None for an event type Zbor does not handle."""
        ...

    def refund(self, request: RefundRequest) -> RefundResult:
        """Refund at the provider. Raises ``RefundRefused`` (an answer: nothing refunded) or
        ``RefundUnanswered`` (no answer: ask again with the same key). Only called when
        ``refunds_at_provider``."""
        ...
