"""Applying what payment providers tell us, in a fixed order, exactly once.

    1. the provider verifies and reduces the webhook (zbor.payments: bad signature → 400);
    2. the event is stored under (provider, event id) — a unique constraint, so the same
       event delivered twice finds the first copy;
    3. it is handled in one transaction with the ledger write, and its outcome recorded.

An event stored but not yet handled (the process died between 2 and 3) is handled when it
is delivered again; handling is idempotent because each ledger group has a unique key. A
refund or dispute that arrives before its payment is kept as *deferred* and applied as soon
as the payment succeeds.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from zbor.ledger.models import TransferKind
from zbor.payments.base import EventType, PaymentEvent
from zbor.payments.models import EventStatus, PaymentEventRecord

from . import services
from .exceptions import NotPaidYet
from .models import Donation, DonationStatus

log = logging.getLogger(__name__)

#: Outcomes after which a redelivered event is not handled again. A deferred or failed event is.
FINAL = (EventStatus.PROCESSED, EventStatus.IGNORED, EventStatus.ATTENTION)

UNPAID = {
    EventType.FAILED: DonationStatus.FAILED,
    EventType.EXPIRED: DonationStatus.EXPIRED,
    EventType.CANCELLED: DonationStatus.CANCELLED,
}


def _store(event: PaymentEvent) -> PaymentEventRecord:
    try:
        with transaction.atomic():
            return PaymentEventRecord.objects.create(
                provider=event.provider,
                event_id=event.event_id,
                type=str(event.type),
                data=event.as_json(),
                checkout_reference=event.checkout_reference,
                payment_reference=event.payment_reference,
            )
    except IntegrityError:
        return PaymentEventRecord.objects.get(provider=event.provider, event_id=event.event_id)


def receive_event(event: PaymentEvent) -> PaymentEventRecord:
    """Store the event once and handle it unless it was handled before."""
    record = _store(event)
    if record.status in FINAL:
        return record
    record = handle(record)
    if record.status == EventStatus.PROCESSED and event.type == EventType.SUCCEEDED:
        retry_deferred(record.provider, record.payment_reference)
    return record


def handle(record: PaymentEventRecord) -> PaymentEventRecord:
    """Apply a stored event; its outcome (or the error) is written to the record."""
    try:
        with transaction.atomic():
            locked = PaymentEventRecord.objects.select_for_update().get(pk=record.pk)
            if locked.status in FINAL:
                return locked
            status = apply_event(PaymentEvent.from_json(locked.provider, locked.event_id, locked.data))
            locked.status = status
            locked.attempts += 1
            locked.error = ""
            locked.processed_at = timezone.now() if status == EventStatus.PROCESSED else None
            locked.save(update_fields=["status", "attempts", "error", "processed_at"])
            return locked
    except Exception as exc:
        log.exception("payment event %s:%s failed", record.provider, record.event_id)
        PaymentEventRecord.objects.filter(pk=record.pk).update(status=EventStatus.FAILED, error=type(exc).__name__)
        raise


def apply_event(event: PaymentEvent) -> str:
    """The one place any provider's event changes a donation. Returns the record's new status."""
    if event.type == EventType.SUCCEEDED or event.type in UNPAID:
        # An empty reference names nothing (a donation whose checkout never started has one too).
        donations = Donation.objects.filter(provider=event.provider, checkout_reference=event.checkout_reference)
        donation = donations.first() if event.checkout_reference else None
        if donation is None:
            log.warning("%s event %s names no known checkout", event.provider, event.event_id)
            return EventStatus.IGNORED
        if event.type == EventType.SUCCEEDED:
            if event.amount <= 0 or (event.currency and event.currency != donation.currency):
                # Money moved at the provider in a form Zbor cannot book: never guess it.
                log.error("%s event %s: %s %s for a %s donation", event.provider, event.event_id, event.amount, event.currency, donation.currency)
                return EventStatus.ATTENTION
            services.confirm_donation(
                donation,
                amount=event.amount,
                fee=event.fee,
                payment_reference=event.payment_reference,
                charge_reference=event.extra.get("charge", ""),
            )
        else:
            services.end_unpaid(donation, status=UNPAID[event.type])
        return EventStatus.PROCESSED

    if event.type in (EventType.REFUNDED, EventType.DISPUTED, EventType.DISPUTE_REINSTATED):
        if not event.payment_reference:
            # It names no payment; an empty reference would find any donation paid without one.
            log.warning("%s event %s names no payment", event.provider, event.event_id)
            return EventStatus.IGNORED
        donation = Donation.objects.filter(provider=event.provider, payment_reference=event.payment_reference).first()
        if donation is None:
            return EventStatus.DEFERRED
        if event.currency and event.currency != donation.currency:
            # Money went back at the provider in a form Zbor cannot book: never guess it.
            log.error("%s event %s: %s %s for a %s donation", event.provider, event.event_id, event.amount, event.currency, donation.currency)
            return EventStatus.ATTENTION
        dispute = event.extra.get("dispute") or event.event_id
        try:
            if event.type == EventType.REFUNDED:
                # Stripe reports the charge's cumulative refunds: apply what is new, once.
                services.take_back(donation, cumulative=event.amount, kind=TransferKind.REFUND, key=f"refund:{event.amount}")
            elif event.type == EventType.DISPUTED:
                services.take_back(donation, amount=event.amount, kind=TransferKind.DISPUTE, key=f"dispute:{dispute}")
            else:
                services.reinstate_dispute(donation, amount=event.amount, key=f"reinstated:{dispute}")
        except NotPaidYet:
            return EventStatus.DEFERRED
        return EventStatus.PROCESSED
    return EventStatus.IGNORED


def retry_deferred(provider: str, payment_reference: str) -> None:
    """Apply events that waited for this payment, in the order they arrived."""
    if not payment_reference:
        return
    for record in PaymentEventRecord.objects.filter(
        provider=provider, payment_reference=payment_reference, status=EventStatus.DEFERRED
    ).order_by("received_at", "pk"):
        PaymentEventRecord.objects.filter(pk=record.pk).update(status=EventStatus.RECEIVED)
        record.refresh_from_db()
        handle(record)
