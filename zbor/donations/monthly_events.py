"""What providers say about monthly gifts, applied through the services (``events`` stores
each event once and calls these; read its header).

Order-tolerant: an event naming a subscription Zbor does not know yet (a card's invoice paid
before its checkout's completion arrived) is kept *deferred*, and applied again once the
subscription starts (``deferred_for``; and should the start be handled at the very moment the
event was being deferred, the event looks once more itself: ``started_meanwhile``). A month's payment is booked once per invoice
(``services.record_monthly_payment``), however often it is delivered.
"""

from __future__ import annotations

import logging

from zbor.payments.base import EventType, PaymentEvent
from zbor.payments.models import EventStatus, PaymentEventRecord

from . import services
from .models import MonthlyGift, StopReason

log = logging.getLogger(__name__)

#: Monthly events applied under the event's lock (``events.apply_event``); MONTHLY_PAID is
#: booked like a one-off payment instead, outside it (``monthly_paid``).
MONTHLY_TYPES = frozenset(
    {
        EventType.SUBSCRIPTION_STARTED,
        EventType.MONTHLY_FAILED,
        EventType.SUBSCRIPTION_UPDATED,
        EventType.SUBSCRIPTION_ENDED,
    }
)


def gift_of(event: PaymentEvent) -> MonthlyGift | None:
    """The gift an event is about: by the provider's subscription, or (the first checkout's
    completion) by that checkout."""
    gift = services.gift_by_reference(event.provider, event.extra.get("subscription", ""))
    if gift is None and event.type == EventType.SUBSCRIPTION_STARTED:
        gift = services.gift_by_checkout(event.provider, event.checkout_reference)
    return gift


def apply_monthly(event: PaymentEvent) -> str:
    """Apply a monthly event other than a payment; returns the record's new status."""
    gift = gift_of(event)
    if gift is None:
        if event.type == EventType.SUBSCRIPTION_STARTED:
            log.warning("%s event %s names no known monthly checkout", event.provider, event.event_id)
            return EventStatus.IGNORED
        return EventStatus.DEFERRED  # its subscription's start has not arrived yet
    if event.type == EventType.SUBSCRIPTION_STARTED:
        services.activate_monthly(
            gift, reference=event.extra.get("subscription", ""), customer_reference=event.extra.get("customer", "")
        )
    elif event.type == EventType.MONTHLY_FAILED:
        services.monthly_failed(gift)
    elif event.type == EventType.SUBSCRIPTION_UPDATED:
        amount = event.extra.get("amount")
        paused = event.extra.get("paused")
        services.provider_updated(
            gift,
            amount=amount if isinstance(amount, int) else None,
            paused=paused if isinstance(paused, bool) else None,
        )
    else:  # SUBSCRIPTION_ENDED
        services.stop_monthly(gift, reason=StopReason.PROVIDER)
    return EventStatus.PROCESSED


def monthly_paid(record: PaymentEventRecord) -> str:
    """Book one month: the status to write unless the booking (processed) or the review
    (REVIEW) wrote one already."""
    event = PaymentEvent.from_json(record.provider, record.event_id, record.data)
    gift = gift_of(event)
    if gift is None:
        return EventStatus.DEFERRED
    invoice = event.checkout_reference or event.extra.get("invoice", "")
    if not invoice:
        log.warning("%s event %s names no invoice", event.provider, event.event_id)
        return EventStatus.IGNORED
    services.record_monthly_payment(
        gift,
        invoice_reference=invoice,
        amount=event.amount,
        currency=event.currency,
        fee=event.fee,
        payment_reference=event.payment_reference,
        charge_reference=event.extra.get("charge", ""),
        event=record,
    )
    return EventStatus.PROCESSED


def started_meanwhile(record: PaymentEventRecord) -> bool:
    """Whether a monthly event just deferred names a gift that is known now. Two deliveries at
    once: the subscription's start was handled, its look for waiting events (``deferred_for``)
    included, between this event finding no gift and being marked deferred; nobody else would
    apply it again."""
    if record.status != EventStatus.DEFERRED or record.type not in {*MONTHLY_TYPES, EventType.MONTHLY_PAID}:
        return False
    return gift_of(PaymentEvent.from_json(record.provider, record.event_id, record.data)) is not None


def deferred_for(record: PaymentEventRecord) -> list[PaymentEventRecord]:
    """The monthly events that waited for the subscription this started event names, in the
    order they arrived."""
    subscription = record.data.get("extra", {}).get("subscription", "")
    if not subscription:
        return []
    waiting = PaymentEventRecord.objects.filter(
        provider=record.provider,
        status=EventStatus.DEFERRED,
        type__in=[str(t) for t in (*MONTHLY_TYPES, EventType.MONTHLY_PAID)],
    ).order_by("received_at", "pk")
    return [r for r in waiting if r.data.get("extra", {}).get("subscription") == subscription]
