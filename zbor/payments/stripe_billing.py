"""What Stripe Billing holds, read for `zbor reconcile`: the account's subscriptions that are
still running and its recent paid invoices, page by page through the SDK's own pagination
(``auto_paging_iter``: 100 a request, ``starting_after`` the last one read), each reduced to a
dataclass naming no donor. The comparison with Zbor's gifts and donations is
``zbor.donations.monthly_reconcile``'s.

A subscription or invoice that is not a monthly gift of Zbor's (no ``zbor_gift`` metadata: the
foundation sells something else on the account) is still returned, with ``gift`` empty; the
comparison decides what it means.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import stripe

from .base import ProviderUnavailable
from .stripe_fields import _amount, _currency, _id, _Malformed
from .stripe_monthly import _gift, _invoice_subscription, _unavailable

#: Subscription statuses Stripe still bills (or will once the first payment succeeds).
RUNNING = frozenset({"active", "past_due", "unpaid", "trialing", "incomplete", "paused"})
PAGE = 100


@dataclass(frozen=True)
class SubscriptionState:
    reference: str
    #: Zbor's gift id (its public id in hex) from the metadata; "" for a subscription not Zbor's.
    gift: str
    status: str
    #: What it bills a month, in minor units (0 when it is not one price with an amount).
    amount: int
    currency: str
    #: Collection paused (``pause_collection``): the months are voided until it resumes.
    paused: bool


@dataclass(frozen=True)
class PaidInvoice:
    reference: str
    subscription: str
    #: Zbor's gift id from the invoice's snapshot of the subscription's metadata, or "".
    gift: str
    amount: int
    currency: str
    paid_at: datetime | None


def _state(subscription) -> SubscriptionState:
    items = subscription["items"].data
    amount = 0
    if len(items) == 1 and getattr(items[0].price, "unit_amount", None) is not None:
        amount = _amount(items[0].price.unit_amount) * (getattr(items[0], "quantity", 1) or 1)
    return SubscriptionState(
        reference=_id(subscription.id),
        gift=_gift(getattr(subscription, "metadata", None)),
        status=str(subscription.status)[:32],
        amount=amount,
        currency=_currency(subscription.currency),
        paused=bool(getattr(subscription, "pause_collection", None)),
    )


def _paid_at(invoice) -> datetime | None:
    transitions = getattr(invoice, "status_transitions", None)
    paid_at = getattr(transitions, "paid_at", None) if transitions else None
    return datetime.fromtimestamp(paid_at, tz=UTC) if isinstance(paid_at, int) else None


def _unreadable(kind: str, exc: Exception) -> ProviderUnavailable:
    return ProviderUnavailable(f"Stripe answered a {kind} Zbor cannot read: {type(exc).__name__} {exc}")


class StripeBillingReads:
    """The reading half of ``StripeProvider`` for reconciliation (which supplies ``client``)."""

    client: stripe.StripeClient

    def running_subscriptions(self) -> Iterator[SubscriptionState]:
        """Every subscription Stripe has not canceled (its list's default), newest first.
        Raises ProviderUnavailable when Stripe cannot be read, _Malformed when it answers
        something Zbor cannot read (both ProviderUnavailable)."""
        try:
            for subscription in self.client.v1.subscriptions.list({"limit": PAGE}).auto_paging_iter():
                yield _state(subscription)
        except stripe.StripeError as exc:
            raise _unavailable("list the subscriptions", exc) from exc
        except (_Malformed, AttributeError, KeyError, TypeError) as exc:
            raise _unreadable("subscription", exc) from exc

    def subscription_state(self, reference: str) -> SubscriptionState | None:
        """One subscription, whatever its status; None when Stripe has no such subscription."""
        try:
            return _state(self.client.v1.subscriptions.retrieve(reference))
        except (_Malformed, AttributeError, KeyError, TypeError) as exc:
            raise _unreadable("subscription", exc) from exc
        except stripe.InvalidRequestError as exc:
            if getattr(exc, "code", None) == "resource_missing":
                return None
            raise _unavailable("read the subscription", exc) from exc
        except stripe.StripeError as exc:
            raise _unavailable("read the subscription", exc) from exc

    def paid_invoices(self, since: datetime) -> Iterator[PaidInvoice]:
        """The paid invoices of subscriptions made since ``since``, newest first; invoices of no
        subscription and invoices that paid nothing are left out."""
        params = {"status": "paid", "created": {"gte": int(since.timestamp())}, "limit": PAGE}
        try:
            for invoice in self.client.v1.invoices.list(params).auto_paging_iter():  # type: ignore[arg-type]
                subscription, gift = _invoice_subscription(invoice)
                amount = _amount(invoice.amount_paid)
                if not subscription or amount == 0:
                    continue
                yield PaidInvoice(
                    reference=_id(invoice.id),
                    subscription=subscription,
                    gift=gift,
                    amount=amount,
                    currency=_currency(invoice.currency),
                    paid_at=_paid_at(invoice),
                )
        except stripe.StripeError as exc:
            raise _unavailable("list the paid invoices", exc) from exc
        except (_Malformed, AttributeError, KeyError, TypeError) as exc:
            raise _unreadable("invoice", exc) from exc
