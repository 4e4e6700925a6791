"""Applying what payment providers tell us, in a fixed order, exactly once.

    1. the provider verifies and reduces the webhook (zbor.payments: bad signature → 400);
    2. the event is stored under (provider, event id) — a unique constraint, so the same
       event delivered twice finds the first copy;
    3. it is handled in one transaction with the ledger write, and its outcome recorded; a
       payment's confirmation first joins its campaign's queue and is booked with the others
       waiting (``services.confirm_donation``).

An event stored but not yet handled (the process died between 2 and 3), or whose handling
failed, is handled when it is delivered again, or by the stranded-event sweep
(``zbor.donations.stranded``) a few minutes later, whichever comes first; handling is
idempotent because each ledger group has a unique key and a donation has at most one
confirmation waiting. A refund or dispute that arrives before its payment is kept as
*deferred* and applied as soon as the payment succeeds.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from zbor.ledger.models import TransferKind
from zbor.payments.base import PAID_TYPES, EventType, PaymentEvent, RefundResult, RefundState
from zbor.payments.models import EventStatus, PaymentEventRecord

from . import services
from .exceptions import NotPaidYet
from .models import Donation, DonationStatus, Refund
from .monthly_events import MONTHLY_TYPES, apply_monthly, deferred_for, monthly_paid, started_meanwhile
from .selectors import paid_by

log = logging.getLogger(__name__)

#: Outcomes after which a redelivered event is not handled again. A deferred or failed event is.
FINAL = (
    EventStatus.PROCESSED,
    EventStatus.IGNORED,
    EventStatus.ATTENTION,
    EventStatus.REVIEW,
    EventStatus.DECLINED,
)

UNPAID = {
    EventType.FAILED: DonationStatus.FAILED,
    EventType.EXPIRED: DonationStatus.EXPIRED,
    EventType.CANCELLED: DonationStatus.CANCELLED,
}


def _store(event: PaymentEvent) -> PaymentEventRecord:
    """The event's record: written now, or the first copy if it was delivered before.

    The unique constraint on (provider, event id) decides: the INSERT runs in a savepoint (a
    transaction of its own outside one), so that a copy already there rolls back only the
    INSERT and the first copy is read instead, on SQLite and PostgreSQL alike. Two deliveries
    racing on PostgreSQL: the second INSERT waits for the first to commit, then fails."""
    record = PaymentEventRecord(
        provider=event.provider,
        event_id=event.event_id,
        type=str(event.type),
        data=event.as_json(),
        checkout_reference=event.checkout_reference,
        payment_reference=event.payment_reference,
    )
    try:
        with transaction.atomic():
            record.save(force_insert=True)
    except IntegrityError:
        first = PaymentEventRecord.objects.filter(provider=event.provider, event_id=event.event_id).first()
        if first is None:
            raise  # another constraint failed: not a redelivery
        return first
    return record


def receive_event(event: PaymentEvent) -> PaymentEventRecord:
    """Store the event once and handle it unless it was handled before."""
    record = _store(event)
    if record.status in FINAL:
        return record
    return handle_stored(record)


def handle_stored(record: PaymentEventRecord) -> PaymentEventRecord:
    """Handle a stored event, then the events that waited for its payment if it booked one.
    What a delivery does after storing, and what the stranded-event sweep does again."""
    record = handle(record)
    if started_meanwhile(record):  # its gift started while it was being deferred: apply it now
        PaymentEventRecord.objects.filter(pk=record.pk, status=EventStatus.DEFERRED).update(
            status=EventStatus.RECEIVED
        )
        record.refresh_from_db()
        record = handle(record)
    if record.status == EventStatus.PROCESSED and record.type in PAID_TYPES:
        retry_deferred(record.provider, record.payment_reference)
    if record.status == EventStatus.PROCESSED and record.type == EventType.SUBSCRIPTION_STARTED:
        # A month paid (or changed) before its subscription's start arrived waited for it.
        for waiting in deferred_for(record):
            PaymentEventRecord.objects.filter(pk=waiting.pk).update(status=EventStatus.RECEIVED)
            waiting.refresh_from_db()
            handle_stored(waiting)
    return record


def handle(record: PaymentEventRecord) -> PaymentEventRecord:
    """Apply a stored event; its outcome (or the error) is written to the record."""
    try:
        if record.type == EventType.SUCCEEDED:
            return _handle_payment(record)
        if record.type == EventType.MONTHLY_PAID:
            return _handle_monthly_payment(record)
        with transaction.atomic():
            locked = PaymentEventRecord.objects.select_for_update().get(pk=record.pk)
            if locked.status in FINAL:
                return locked
            status = apply_event(PaymentEvent.from_json(locked.provider, locked.event_id, locked.data))
            _finish(locked, status)
            return locked
    except Exception as exc:
        log.exception("payment event %s:%s failed", record.provider, record.event_id)
        PaymentEventRecord.objects.filter(pk=record.pk).update(status=EventStatus.FAILED, error=type(exc).__name__)
        raise


def _finish(record: PaymentEventRecord, status: str, *also: str) -> None:
    """Write the event's outcome (and the fields ``also`` names, set by the caller)."""
    record.status = status
    record.attempts += 1
    record.error = ""
    record.processed_at = timezone.now() if status == EventStatus.PROCESSED else None
    record.save(update_fields=["status", "attempts", "error", "processed_at", *also])


def _handle_payment(record: PaymentEventRecord) -> PaymentEventRecord:
    """A payment succeeded: its confirmation joins the campaign's queue, and the record is
    marked processed in the transaction that books it (``services.confirm_donation``), not
    under a lock of its own, so that payments to one campaign arriving together are booked
    together. The same event handled twice at once is booked once."""
    event = PaymentEvent.from_json(record.provider, record.event_id, record.data)
    paid = {
        "amount": event.amount,
        "fee": event.fee,
        "payment_reference": event.payment_reference,
        "charge_reference": event.extra.get("charge", ""),
        "event": record,
    }
    # The provider's reason for a person to look whatever the amount (BTCPay: paid after expiry).
    flagged = bool(event.extra.get("review"))
    if not flagged and services.confirm_payment(
        event.provider, event.checkout_reference, currency=event.currency, **paid
    ):
        record.status = EventStatus.PROCESSED  # written with the booking
        return record
    # Not booked by the usual path: find out why.
    donation = _checkout_donation(event)
    if donation is None:
        log.warning("%s event %s names no known checkout", event.provider, event.event_id)
        _finish(record, EventStatus.IGNORED)
    elif event.amount <= 0 or (donation.status == DonationStatus.SUCCEEDED and differs(event, donation)):
        # No amount, or a second payment unlike the one booked: finance looks (zbor reconcile).
        _log_unbookable(event, donation)
        _finish(record, EventStatus.ATTENTION)
    elif differs(event, donation) or (flagged and donation.status != DonationStatus.SUCCEEDED):
        # Money that differs from the pledge never books itself: finance accepts or returns it.
        _log_unbookable(event, donation)
        record.pledged = donation.amount
        _finish(record, EventStatus.REVIEW, "pledged")
    elif services.confirm_donation(donation, **paid):
        record.status = EventStatus.PROCESSED  # written with the booking
    else:
        _finish(record, EventStatus.PROCESSED)  # it had succeeded before: nothing was booked now
    return record


def _handle_monthly_payment(record: PaymentEventRecord) -> PaymentEventRecord:
    """One month of a monthly gift paid: booked like a payment (``_handle_payment``), its
    donation made once per invoice (``monthly_events.monthly_paid``)."""
    status = monthly_paid(record)
    record.refresh_from_db()
    if record.status not in FINAL:
        _finish(record, status)
    return record


def _any_deferred(provider: str, payment_reference: str) -> bool:
    # Asked after every payment, almost always to learn that nothing waits: plain SQL.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {PaymentEventRecord._meta.db_table} WHERE payment_reference = %s AND provider = %s AND status = %s",  # noqa: S608
            [payment_reference, provider, EventStatus.DEFERRED],
        )
        return cursor.fetchone() is not None


def _checkout_donation(event: PaymentEvent) -> Donation | None:
    # An empty reference names nothing (a donation whose checkout never started has one too).
    if not event.checkout_reference:
        return None
    return (
        Donation.objects.filter(provider=event.provider, checkout_reference=event.checkout_reference)
        .exclude(checkout_reference="")  # names the index's condition: SQLite uses the index only then
        .first()
    )


def differs(event: PaymentEvent, donation: Donation) -> bool:
    """Whether a payment is not what its donation pledged: another amount or currency, or
    above the per-donation maximum. Such a payment waits for finance (EventStatus.REVIEW)."""
    return (
        event.amount != donation.amount
        or bool(event.currency and event.currency != donation.currency)
        or event.amount > services.max_donation(donation.currency)
    )


def _log_unbookable(event: PaymentEvent, donation: Donation) -> None:
    """Money moved at the provider in a form Zbor cannot book by itself (no amount, another
    amount or currency): never guess it; say so for finance."""
    log.error(
        "%s event %s: %s %s for a %s donation",
        event.provider,
        event.event_id,
        event.amount,
        event.currency,
        donation.currency,
    )


def apply_event(event: PaymentEvent) -> str:
    """Apply an event other than a payment (see ``_handle_payment``). Returns the record's new status."""
    if event.type in UNPAID:
        donation = _checkout_donation(event)
        if donation is None:
            log.warning("%s event %s names no known checkout", event.provider, event.event_id)
            return EventStatus.IGNORED
        services.end_unpaid(donation, status=UNPAID[event.type])
        return EventStatus.PROCESSED

    if event.type == EventType.REFUND_UPDATED:
        return _refund_updated(event)

    if event.type in MONTHLY_TYPES:
        return apply_monthly(event)

    if event.type in (EventType.REFUNDED, EventType.DISPUTED, EventType.DISPUTE_REINSTATED):
        if not event.payment_reference:
            # It names no payment; an empty reference would find any donation paid without one.
            log.warning("%s event %s names no payment", event.provider, event.event_id)
            return EventStatus.IGNORED
        donation = paid_by(event.provider, event.payment_reference)
        if donation is None:
            return EventStatus.DEFERRED
        if event.currency and event.currency != donation.currency:
            _log_unbookable(event, donation)
            return EventStatus.ATTENTION
        dispute = event.extra.get("dispute") or event.event_id
        try:
            if event.type == EventType.REFUNDED:
                # Stripe reports the charge's cumulative refunds: apply what is new, once. Refunds
                # staff sent through the API and not booked yet are left out: they book themselves.
                services.take_back(
                    donation, cumulative=event.amount, kind=TransferKind.REFUND, key=f"refund:{event.amount}"
                )
            elif event.type == EventType.DISPUTED:
                services.take_back(donation, amount=event.amount, kind=TransferKind.DISPUTE, key=f"dispute:{dispute}")
            else:
                services.reinstate_dispute(donation, amount=event.amount, key=f"reinstated:{dispute}")
        except NotPaidYet:
            return EventStatus.DEFERRED
        return EventStatus.PROCESSED
    return EventStatus.IGNORED


def _staff_refund(event: PaymentEvent) -> Refund | None:
    """The staff refund a provider's refund event is about: by the provider's refund id, or by
    the refund number Zbor sent as metadata (the event may come before the API's answer)."""
    refunds = Refund.objects.filter(donation__provider=event.provider).select_related("donation")
    by_id = refunds.filter(provider_refund_id=event.extra.get("refund", "")).exclude(provider_refund_id="").first()
    if by_id is not None:
        return by_id
    number = str(event.extra.get("zbor_refund", ""))
    if not number.isdigit() or not event.payment_reference:
        return None
    return refunds.filter(pk=int(number), donation__payment_reference=event.payment_reference).first()


def _refund_updated(event: PaymentEvent) -> str:
    """One refund changed state at the provider. A staff refund's is settled (booked once it
    succeeded, whichever of this event and the API's answer comes first); a refund made in the
    provider's dashboard is booked by the charge's ``charge.refunded`` instead."""
    refund = _staff_refund(event)
    if refund is None:
        return EventStatus.IGNORED
    if event.amount != refund.amount or (event.currency and event.currency != refund.donation.currency):
        _log_unbookable(event, refund.donation)
        return EventStatus.ATTENTION
    state = event.extra.get("status", "")
    if state not in set(RefundState):
        return EventStatus.IGNORED
    result = RefundResult(
        event.extra.get("refund", ""), RefundState(state), event.amount, event.extra.get("failure_reason", "")
    )
    return EventStatus.PROCESSED if services.settle_refund(refund.pk, result) else EventStatus.ATTENTION


def retry_deferred(provider: str, payment_reference: str) -> None:
    """Apply events that waited for this payment, in the order they arrived."""
    if not payment_reference or not _any_deferred(provider, payment_reference):
        return
    for record in PaymentEventRecord.objects.filter(
        provider=provider, payment_reference=payment_reference, status=EventStatus.DEFERRED
    ).order_by("received_at", "pk"):
        PaymentEventRecord.objects.filter(pk=record.pk).update(status=EventStatus.RECEIVED)
        record.refresh_from_db()
        handle(record)
