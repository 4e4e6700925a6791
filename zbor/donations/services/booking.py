"""The booking queue: a provider's confirmation is queued, then booked with every other
confirmation waiting for the same campaign, in one transaction under the campaign's lock
(group commit; docs/decisions/0006-booking-confirmations-in-batches.md).

READ THIS BEFORE CHANGING ANYTHING HERE. Money is booked here, and the tests only catch some
mistakes. What must never change, and why:

- Exactly once. A payment is booked once however often its provider delivers the event and
  however many servers receive it at once. Three things make it so, keep all three: the queue
  has one row per donation (``Confirmation.donation`` is unique, and ``_queue`` inserts with
  ``ON CONFLICT (donation_id) DO NOTHING`` only for a donation that has not succeeded, in one
  statement that both finds the donation and queues it); the turn that books deletes the
  queued rows, marks their events processed and moves the donations to succeeded in the same
  transaction as the ledger write; and each donation's ledger group has the unique key
  ``<reference>:succeeded``, so that a second booking fails instead of counting twice.
- Lock order. A booking locks, in this order: (PostgreSQL only) the advisory locks below,
  the campaign's row (``FOR NO KEY UPDATE``), the queued confirmations and their donations
  (in queue order), then the ledger accounts (in id order, ``zbor.ledger.services``). Reversals
  (``reversals.py``) take the campaign before the donation too. Locking a donation before its
  campaign, or accounts before either, deadlocks under load.
- The campaign's row lock is what makes bookings to one campaign run one after another, so
  that no need is filled twice: allocation reads the balances once per turn and fills the
  needs in memory. Never allocate outside that lock, never read balances before taking it.
- The advisory locks (``BOOKING``, ``NEXT_BOOKER``, keyed by the campaign id in 31 bits) do
  not protect data: they decide who waits and how. One process at a time is the campaign's
  next booker; the others wait for its booking with a shared lock and leave, finding their
  work done (``_take_turn``). Without them correctness holds but every waiter takes its own
  turn to find its work done, and a busy campaign books one confirmation per turn again. The
  session-level ``NEXT_BOOKER`` must be released on every path (``pg_advisory_unlock_all`` on
  error), or the campaign's queue waits on a dead holder.
- ``confirm_donation`` and ``confirm_payment`` return only once their confirmation has left
  the queue (booked, by this request or another, or dropped after failing alone): their
  callers answer the provider on that.
- No savepoint per confirmation inside an outer transaction (a statement import confirming
  hundreds of lines): past 64 subtransactions PostgreSQL checks every row they wrote the slow
  way. ``_queue`` is one statement for that reason.
- A confirmation that cannot be booked with the others is booked alone, and if it fails alone
  it leaves the queue and its error is raised: one bad confirmation blocks nobody else.

The tests that hold this: tests/test_group_commit.py (one turn books everything waiting, in
the order it arrived; the provider's amount and references are kept; events booked by another
request's turn are marked processed; one confirmation that cannot be booked blocks nobody; on
PostgreSQL, many payments confirmed at once from many threads are each booked once; the sweep
books confirmations whose request died), tests/test_ledger_state_machine.py (for any sequence
of payments, failures, refunds and redeliveries: every ledger group balances, balances equal
their transfers, what a campaign shows as collected is what the provider paid minus what it
refunded, no need is filled past its amount by unearmarked money) and tests/test_concurrency.py.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from zbor.campaigns.models import Campaign
from zbor.logs import event
from zbor.payments.models import EventStatus, PaymentEventRecord

from ..models import Confirmation, Donation, DonationStatus
from . import posting
from .start import max_donation

log = logging.getLogger(__name__)

#: The most confirmations one turn of a campaign's lock books.
BATCH = 500


def confirm_donation(
    donation: Donation,
    *,
    amount: int,
    fee: int = 0,
    payment_reference: str = "",
    charge_reference: str = "",
    event: PaymentEventRecord | None = None,
) -> bool:
    """Book a payment its provider confirmed: the donation succeeds and its ledger group is
    posted. False if it had succeeded before. ``amount`` is what the provider received, and
    becomes the donation's amount: callers book it only when it equals the pledge, or when a
    person in finance accepted it (``review.accept_line``); money that differs never books
    itself. ``event``, the provider's event, is marked processed in the same transaction as the
    ledger write. The ``donation`` object is not reloaded.

    Two steps, so that confirmations to one campaign arriving together are booked together
    (group commit): the confirmation is queued and committed, then the campaign's row is
    locked and every confirmation waiting for it is booked in one transaction
    (``book_confirmations``). Whoever holds the lock books the others' too, and they find their
    work done when their turn comes: a campaign receiving hundreds of donations a second takes
    its lock a few times a second. Concurrent confirmations to one campaign are booked one
    after another, so no need is filled twice. Inside an outer transaction (a bank statement
    import) both steps are part of it.
    """
    if amount <= 0:
        raise ValueError(f"confirmed amount must be positive, not {amount}")
    queued = _queue("id = %s", [donation.pk], amount, fee, payment_reference, charge_reference, event)
    if queued is None and not Confirmation.objects.filter(donation_id=donation.pk).exists():
        return False
    _book_with(donation.pk, donation.campaign_id)
    return queued is not None


def confirm_donations(confirmations: list[tuple[Donation, int]]) -> set[int]:
    """``confirm_donation`` for many payments at once, each (donation, amount received): every
    confirmation is queued first, then each campaign's queue is booked in as few turns as it
    takes (``BATCH`` a turn), not one turn per payment. Returns the ids of the donations this
    call queued (not those that had succeeded, or whose confirmation was already waiting).

    A bank statement's batch books its matched lines so, inside its transaction: a few
    statements per campaign instead of a turn per line."""
    queued: dict[int, int] = {}  # campaign id: the last donation queued for it
    booked: set[int] = set()
    for donation, amount in confirmations:
        if amount <= 0:
            raise ValueError(f"confirmed amount must be positive, not {amount}")
        row = _queue("id = %s", [donation.pk], amount, 0, "", "", None)
        if row is not None:
            booked.add(row[0])
            queued[row[1]] = row[0]
    # The queue books oldest first: once a campaign's last confirmation has left it, so has every
    # one queued before it.
    for campaign_id, last in sorted(queued.items()):
        _book_with(last, campaign_id)
    return booked


def confirm_payment(
    provider: str,
    checkout_reference: str,
    *,
    amount: int,
    currency: str,
    fee: int = 0,
    payment_reference: str = "",
    charge_reference: str = "",
    event: PaymentEventRecord | None = None,
) -> bool:
    """``confirm_donation`` for a provider's event, which names its donation by the checkout
    reference: one statement finds and queues it. True when this call booked the payment.

    False when it booked nothing: no donation of that provider has this reference, or one in
    another currency (``currency`` "" when the provider does not say) or of another amount, or
    the amount is above the per-donation maximum, or it had succeeded, or a confirmation of it
    was already waiting. The caller then looks at the donation: money that differs from the
    pledge waits for finance (``events._handle_payment``).
    """
    if amount <= 0 or not checkout_reference or (currency and amount > max_donation(currency)):
        return False
    queued = _queue(
        "provider = %s AND checkout_reference = %s AND (%s = '' OR currency = %s) AND amount = %s",
        [provider, checkout_reference, currency, currency, amount],
        amount,
        fee,
        payment_reference,
        charge_reference,
        event,
    )
    if queued is None:
        return False
    _book_with(*queued)
    return True


def _queue(
    where: str,
    params: list,
    amount: int,
    fee: int,
    payment_reference: str,
    charge_reference: str,
    event: PaymentEventRecord | None,
) -> tuple[int, int] | None:
    """Queue the confirmation of the donation ``where`` names unless it has succeeded or a
    confirmation of it waits: one statement, committed at once (unless in an outer
    transaction). Returns (donation id, campaign id), or None when nothing was queued.

    One statement needs no transaction of its own (two round trips fewer), and inside an outer
    transaction (an import confirming hundreds of lines) no savepoint: past 64 subtransactions
    PostgreSQL checks every row they wrote the slow way."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Confirmation._meta.db_table} "  # noqa: S608 - table names from the models, values as parameters
            "(donation_id, campaign_id, amount, fee, payment_reference, charge_reference, event_id, requested_at) "
            f"SELECT id, campaign_id, %s, %s, %s, %s, %s, %s FROM {Donation._meta.db_table} WHERE {where} AND status <> %s "
            "ON CONFLICT (donation_id) DO NOTHING RETURNING donation_id, campaign_id",
            [
                amount,
                max(fee, 0),
                payment_reference,
                charge_reference,
                event.pk if event else None,
                now,
                *params,
                DonationStatus.SUCCEEDED,
            ],
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


def _book_with(donation_id: int, campaign_id: int) -> None:
    """Take turns at the campaign's queue until this donation's confirmation is booked."""
    try:
        first = True
        while not _take_turn(donation_id, campaign_id, first=first):
            first = False
    except Exception:
        if connection.needs_rollback:
            raise  # in an outer transaction, which is lost anyway
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock_all()")  # a next booker's lock, if the error came between
        # A waiting confirmation cannot be booked: book this one alone, so that an error is its
        # own confirmation's only. One that fails alone leaves the queue (its provider delivers
        # the event again; a bank line is imported again) and the error is raised.
        log.warning("confirmations to campaign %s could not be booked together", campaign_id)
        try:
            book_confirmations(campaign_id, only=donation_id)
        except Exception:
            Confirmation.objects.filter(donation_id=donation_id).delete()
            raise


#: PostgreSQL advisory lock classes: the campaign's booking, and its next booker (see ``_take_turn``).
BOOKING, NEXT_BOOKER = 0x7A62, 0x7A63


def _take_turn(donation_id: int, campaign_id: int, *, first: bool = True) -> bool:
    """Book the confirmations waiting for the campaign, or wait for the turn that books this
    donation's. True once this donation's confirmation has left the queue.

    On PostgreSQL one process at a time is the campaign's *next booker*: it waits for the
    booking under way to end, then books every confirmation waiting. Whoever finds a next
    booker already named knows that booking will hold its confirmation (the next booker
    reads the queue only after it stops being next), so it waits for that booking to end (a
    shared hold of the booking's lock, which all who wait get at once) and leaves. So a few
    hundred confirmations a second are booked by a few turns a second, and nobody waits in
    line for the campaign's lock only to find their work done: such a line would make a
    chain of turns each booking only what arrived since the turn before. A turn after the
    first (the rare race where the next booker had not yet asked for the booking's lock)
    simply waits in line. SQLite has one writer at a time anyway (transactions begin
    IMMEDIATE): there every turn books.
    """
    if connection.vendor != "postgresql":
        with transaction.atomic():
            return _book_turn(donation_id, campaign_id)
    booking, following = [BOOKING, campaign_id & 0x7FFFFFFF], [NEXT_BOOKER, campaign_id & 0x7FFFFFFF]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", following)  # session-level: released below
        if cursor.fetchone()[0]:
            with transaction.atomic():
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s), pg_advisory_unlock(%s, %s)", booking + following)
                return _book_turn(donation_id, campaign_id)
        if first:
            # Wait for the next booker's booking: take the booking's lock shared and let it go.
            cursor.execute(
                "SELECT pg_advisory_lock_shared(%s, %s), pg_advisory_unlock_shared(%s, %s)", booking + booking
            )
            return not _queued(cursor, donation_id)
        with transaction.atomic():
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", booking)
            return not _queued(cursor, donation_id) or _book_turn(donation_id, campaign_id)


def _book_turn(donation_id: int, campaign_id: int) -> bool:
    """The booking of a turn, in the caller's transaction."""
    _lock_campaign(campaign_id)
    booked = _book_waiting(campaign_id)
    return donation_id in booked or len(booked) < BATCH


def _queued(cursor, donation_id: int) -> bool:
    cursor.execute(f"SELECT 1 FROM {Confirmation._meta.db_table} WHERE donation_id = %s", [donation_id])  # noqa: S608
    return cursor.fetchone() is not None


def _lock_campaign(campaign_id: int) -> None:
    # FOR NO KEY UPDATE: rows that refer to the campaign (new donations, queued confirmations)
    # can still be inserted while it is held. Plain SQL: this runs once per confirmation.
    lock = connection.ops.for_update_sql(no_key=True) if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {Campaign._meta.db_table} WHERE id = %s {lock}", [campaign_id])  # noqa: S608


def book_confirmations(campaign_id: int, *, only: int | None = None) -> set[int]:
    """Book the confirmations waiting for the campaign, oldest first, at most ``BATCH``, in one
    transaction under the campaign's lock (or only the one of donation ``only``). Returns the
    ids of the donations whose confirmations left the queue.

    A few statements for the whole batch: the allocation runs in memory from the balances read
    once; the ledger groups, the donations and the events are written in bulk.
    """
    with transaction.atomic():
        _lock_campaign(campaign_id)
        return _book_waiting(campaign_id, only=only)


def book_stranded_confirmations(older_than: timedelta = timedelta(minutes=1)) -> int:
    """Book the confirmations queued longer ago than ``older_than``: their requests died before
    their turn. Returns how many were booked; one that cannot be booked is logged and stays."""
    booked = 0
    stranded = Confirmation.objects.filter(requested_at__lt=timezone.now() - older_than)
    for campaign_id in set(stranded.values_list("campaign_id", flat=True)):
        for donation_id in (
            stranded.filter(campaign_id=campaign_id).order_by("pk").values_list("donation_id", flat=True)
        ):
            try:
                booked += len(book_confirmations(campaign_id, only=donation_id))
            except Exception:
                log.exception("a stranded confirmation of donation %s could not be booked", donation_id)
    return booked


def _log_succeeded(donations: list[tuple[str, str]]) -> None:
    """One line per donation booked: its public id's first 8 digits and its provider."""
    for public_id, provider in donations:
        event("donation.succeeded", public_id=public_id, provider=provider)


def _book_waiting(campaign_id: int, *, only: int | None = None) -> set[int]:
    """``book_confirmations`` in the caller's transaction, which holds the campaign's lock."""
    waiting_qs = Confirmation.objects.select_for_update(no_key=True, of=("self", "donation")).select_related(
        "donation"
    )
    waiting_qs = waiting_qs.filter(campaign_id=campaign_id)
    if only is not None:
        waiting_qs = waiting_qs.filter(donation_id=only)
    waiting = list(waiting_qs.order_by("pk")[:BATCH])
    if not waiting:
        return set()
    # A confirmation of a donation that succeeded meanwhile books nothing; its event is done.
    fresh = [c for c in waiting if c.donation.status != DonationStatus.SUCCEEDED]
    if fresh:
        posting.book(Campaign.objects.get(pk=campaign_id), fresh)
        succeeded = [(str(c.donation.public_id)[:8], c.donation.provider) for c in fresh]
        transaction.on_commit(partial(_log_succeeded, succeeded))
    events = [c.event_id for c in waiting if c.event_id]
    if events:
        PaymentEventRecord.objects.filter(pk__in=events).update(
            status=EventStatus.PROCESSED, attempts=F("attempts") + 1, error="", processed_at=timezone.now()
        )
    Confirmation.objects.filter(pk__in=[c.pk for c in waiting]).delete()
    return {c.donation_id for c in waiting}
