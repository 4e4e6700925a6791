"""Refunds staff give, with four eyes: one person in finance requests, another approves.

A bank transfer or a demo gift has no provider to refund it: the foundation sends the money
back by hand, and the approval books it in the same transaction as a reversing ledger group
(``reversals.take_back``: the accounts the gift credited are debited in proportion).

A card gift is refunded through its provider's API (``Provider.refund``), and booked only once
the provider says the money went. The approval is three steps, not one transaction:

1. under the refund's lock: the four-eyes check, the cover check, and the refund marked SENT
   (approved, being asked of the provider) — committed;
2. no lock held: the provider is asked, with an idempotency key derived from the refund;
3. under the locks again: the answer is recorded, and a refund that succeeded is booked.

Asking a provider over the network inside a transaction would hold the campaign's and the
donation's locks (every payment to the campaign waits) for as long as the provider takes, and a
rollback after the call would forget a refund the provider did make. Outside the lock nothing is
lost: the refund is SENT before the call, so the provider's events converge on the same booking
(``settle_refund``: one ledger group per refund, key ``staff-refund:<id>``, booked by whichever of the
API's answer or the ``refund.*`` event comes first, never twice), and the provider's cumulative
``charge.refunded`` leaves SENT refunds out (``reversals.sent_not_booked``). A provider that does
not answer leaves the refund SENT with the reason; approving it again asks again with the same
key, which the provider answers with the refund it made, if it made one — never a second refund.

Money already paid out from a need cannot go back from the need: finance chooses the cover with
the request (``RefundCover``), checked before the provider is asked and again when booking.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from zbor.accounts.services import audit, require
from zbor.ledger.models import TransferKind
from zbor.payments import registry
from zbor.payments.base import RefundRefused, RefundRequest, RefundResult, RefundState, RefundUnanswered

from ..exceptions import DonationRefused, NotInReview
from ..models import Donation, DonationStatus, Refund, RefundCover, RefundStatus
from .reversals import check_cover, take_back

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

REQUEST, APPROVE = "donations.add_refund", "donations.approve_refund"
#: Providers whose gifts staff refund by hand and book here (Bitcoin: from the wallet).
BOOKED_HERE = ("bank", "btcpay", "demo")
#: Providers whose gifts are refunded through the provider's API.
AT_PROVIDER = ("stripe",)
#: How long after the first approval a refund the provider did not answer may be asked again:
#: less than the 24 hours Stripe keeps an idempotency key's answer.
ASK_AGAIN_WITHIN = timedelta(hours=23)
#: Refunds holding part of a gift until they are decided or answered.
OPEN = (RefundStatus.REQUESTED, RefundStatus.SENT)
#: A refund's states at the provider after which it changes no more (but for a rare failure
#: after success, which ``settle_refund`` leaves to finance).
FINAL = (RefundState.SUCCEEDED, RefundState.FAILED, RefundState.CANCELED)


def refundable(donation: Donation) -> int:
    """What can still be asked back: the gift minus what was refunded, disputed, or requested
    or sent and not booked yet."""
    open_ = Refund.objects.filter(donation=donation, status__in=OPEN).aggregate(total=Sum("amount"))["total"] or 0
    return donation.amount - donation.refunded - donation.disputed - open_


def _card_provider(donation: Donation):
    provider = registry.get(donation.provider)
    if provider is None or not getattr(provider, "refunds_at_provider", False) or not donation.payment_reference:
        raise DonationRefused(
            _(
                "This gift's card provider is not set up here (or the payment has no id there): refund it in its dashboard."
            )
        )
    return provider


def request_refund(
    donation: Donation, *, amount: int, reason: str, by: User, cover: str = RefundCover.AUTOMATIC
) -> Refund:
    require(by, REQUEST)
    if not reason.strip():
        raise DonationRefused(_("Say why the money goes back."))
    if cover not in RefundCover.values:
        raise DonationRefused(_("Choose where money already paid out is covered from."))
    with transaction.atomic():
        locked = Donation.objects.select_for_update().get(pk=donation.pk)
        if locked.provider not in BOOKED_HERE:
            _card_provider(locked)
        if locked.status != DonationStatus.SUCCEEDED:
            raise DonationRefused(_("Only a gift that was received can be refunded."))
        if not 0 < amount <= refundable(locked):
            raise DonationRefused(_("The refund must be more than nothing and at most what the gift still holds."))
        refund = Refund.objects.create(
            donation=locked, amount=amount, reason=reason.strip(), cover=cover, requested_by=by
        )
        audit(by, "refund.request", refund, fields=["amount", "reason", "cover"])
    return refund


def _decided(refund: Refund, by: User) -> Refund:
    # Only the refund's row: the donation's is locked after its campaign's (``take_back``),
    # the order every booking takes them in.
    locked = Refund.objects.select_for_update(of=("self",)).select_related("donation").get(pk=refund.pk)
    unanswered = locked.status == RefundStatus.SENT and not locked.provider_refund_id
    if locked.status != RefundStatus.REQUESTED and not unanswered:
        raise NotInReview(_("This refund was decided before."))
    if locked.requested_by_id == by.pk:
        raise DonationRefused(_("You requested this refund: someone else in finance must approve it."))
    if unanswered and locked.decided_at and timezone.now() - locked.decided_at > ASK_AGAIN_WITHIN:
        # Stripe keeps an idempotency key for 24 hours: asked later, it could refund twice.
        raise DonationRefused(
            _(
                "This refund was sent more than a day ago without an answer: look it up in the card provider's "
                "dashboard instead of asking again (it could be refunded twice)."
            )
        )
    return locked


def approve_refund(refund: Refund, *, by: User) -> Refund:
    """The second person approves: a bank or demo refund is booked at once; a card refund is
    asked of the provider and booked when it says the money went (see the module's header).
    Raises ``DonationRefused`` with the reason when the cover is short or the provider refuses
    or does not answer; nothing is booked then."""
    require(by, APPROVE)
    with transaction.atomic():
        locked = _decided(refund, by)
        if locked.donation.provider in BOOKED_HERE:
            take_back(
                locked.donation,
                kind=TransferKind.REFUND,
                key=f"staff-refund:{locked.pk}",
                amount=locked.amount,
                cover=locked.cover,
            )
            locked.status, locked.decided_by, locked.decided_at = RefundStatus.BOOKED, by, timezone.now()
            locked.save(update_fields=["status", "decided_by", "decided_at"])
            audit(by, "refund.approve", locked, fields=["status"])
            refund.refresh_from_db()
            return refund
        provider = _card_provider(locked.donation)
        check_cover(locked.donation, amount=locked.amount, cover=locked.cover)
        locked.status, locked.decided_by, locked.decided_at = RefundStatus.SENT, by, timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        audit(by, "refund.approve", locked, fields=["status"])
    _ask_provider(provider, locked, by)
    refund.refresh_from_db()
    return refund


def _ask_provider(provider, refund: Refund, by: User) -> None:
    donation = refund.donation
    request = RefundRequest(
        payment_reference=donation.payment_reference,
        amount=refund.amount,
        currency=donation.currency,
        idempotency_key=refund.idempotency_key,
        zbor_refund=str(refund.pk),
    )
    try:
        result = provider.refund(request)
    except RefundRefused as exc:
        settle_refund(refund.pk, RefundResult("", RefundState.FAILED, refund.amount, exc.reason), by=by)
        raise DonationRefused(
            _("The card provider refused the refund: %(reason)s. Nothing was booked; it may be requested again.")
            % {"reason": exc.reason}
        ) from exc
    except Exception as exc:  # RefundUnanswered, or anything unforeseen: the outcome is unknown
        if not isinstance(exc, RefundUnanswered):
            log.exception("asking the provider for refund %s failed", refund.pk)
        with transaction.atomic():
            Refund.objects.filter(pk=refund.pk, status=RefundStatus.SENT).update(failure=str(exc)[:500])
            audit(by, "refund.unanswered", refund, fields=["failure"])
        raise DonationRefused(
            _(
                "The card provider did not answer, so whether the money went back is not known yet; nothing was "
                "booked. Its event will tell, or approve the refund again to ask again (it is never refunded twice)."
            )
        ) from exc
    try:
        settle_refund(refund.pk, result, by=by)
    except Exception as exc:
        # The provider made the refund; its refund event settles it again, booked once.
        log.exception("refund %s: the provider answered %s, and booking it failed", refund.pk, result.state)
        raise DonationRefused(
            _("The card provider made the refund, but booking it failed: its event will book it. Nothing to redo.")
        ) from exc
    refund.refresh_from_db()
    if refund.status == RefundStatus.FAILED:
        raise DonationRefused(
            _("The card provider refused the refund: %(reason)s. Nothing was booked; it may be requested again.")
            % {"reason": refund.failure or result.state}
        )


def settle_refund(refund_pk: int, result: RefundResult, *, by: User | None = None) -> bool:
    """Record what the provider says of a refund Zbor asked for — its API's answer or its
    ``refund.*`` event, in any order and any number of times — and book it once it succeeded.

    Returns False when the provider's word contradicts the books (a refund booked here that
    the provider now says failed): finance looks (the event is kept for attention). Events
    come in any order: a refund that failed at the provider stays failed (its end there), and
    a late "pending" never hides a state that came after it."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update(of=("self",)).select_related("donation").get(pk=refund_pk)
        if refund.status == RefundStatus.FAILED and refund.provider_refund_id:
            return True
        if result.state in (RefundState.PENDING, RefundState.REQUIRES_ACTION) and refund.provider_status in FINAL:
            return True
        if result.provider_refund_id:
            refund.provider_refund_id = result.provider_refund_id
        refund.provider_status = str(result.state)
        fields = ["provider_refund_id", "provider_status", "status", "failure"]
        if refund.status == RefundStatus.BOOKED:
            refund.save(update_fields=fields)
            if result.state in (RefundState.FAILED, RefundState.CANCELED):
                log.error("refund %s was booked, and its provider now says it %s", refund.pk, result.state)
                return False
            return True
        if refund.status in (RefundStatus.REQUESTED, RefundStatus.REJECTED):
            log.warning("refund %s was never sent, and its provider reports it %s", refund.pk, result.state)
            return False
        if result.state == RefundState.SUCCEEDED:
            _book(refund, by)
        elif result.state in (RefundState.FAILED, RefundState.CANCELED):
            refund.status, refund.failure = RefundStatus.FAILED, (result.failure_reason or str(result.state))[:500]
            audit(by, "refund.fail", refund, fields=["status", "failure"], label="provider")
        else:  # pending, or waiting for the donor's details: its event says what became of it
            refund.failure = ""
        refund.save(update_fields=fields)
    return True


def _book(refund: Refund, by: User | None) -> None:
    """Book a refund the provider made, under the refund's lock (``settle_refund``). The money has gone:
    if the chosen cover fell short since the approval checked it (a payout meanwhile), the
    foundation's reserve covers the rest and the audit says so."""
    key = f"staff-refund:{refund.pk}"
    cover = refund.cover
    try:
        with transaction.atomic():
            take_back(refund.donation, kind=TransferKind.REFUND, key=key, amount=refund.amount, cover=cover)
    except DonationRefused:
        cover = RefundCover.AUTOMATIC
        take_back(refund.donation, kind=TransferKind.REFUND, key=key, amount=refund.amount, cover=cover)
        audit(by, "refund.cover_fallback", refund, fields=["cover"], label="provider")
    refund.status, refund.failure = RefundStatus.BOOKED, ""
    audit(by, "refund.book", refund, fields=["status"], label="provider")


def reject_refund(refund: Refund, *, by: User) -> Refund:
    require(by, APPROVE)
    with transaction.atomic():
        locked = Refund.objects.select_for_update().get(pk=refund.pk)
        if locked.status != RefundStatus.REQUESTED:
            raise NotInReview(_("This refund was decided before."))
        if locked.requested_by_id == by.pk:
            raise DonationRefused(_("You requested this refund: someone else in finance must approve it."))
        locked.status, locked.decided_by, locked.decided_at = RefundStatus.REJECTED, by, timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        audit(by, "refund.reject", locked, fields=["status"])
    refund.refresh_from_db()
    return refund
