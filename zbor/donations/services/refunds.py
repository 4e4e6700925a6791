"""Refunds staff give, with four eyes: one person in finance requests, another approves.

A bank transfer or a demo gift has no provider to refund it: the foundation sends the money
back by hand and books it here. Requested with the amount and why; approved by someone else,
then booked in the same transaction as a reversing ledger group (``reversals.take_back``: the
accounts the gift credited are debited in proportion, and money already paid out is covered
from the campaign's money beyond its goal, then the foundation's reserve). A card gift is
refunded at its provider (its dashboard, for now): the provider's refund event books it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from zbor.accounts.services import audit
from zbor.ledger.models import TransferKind

from ..exceptions import DonationRefused, NotInReview
from ..models import Donation, DonationStatus, Refund, RefundStatus
from .reversals import take_back

if TYPE_CHECKING:
    from django.contrib.auth.models import User

REQUEST, APPROVE = "donations.add_refund", "donations.approve_refund"
#: Providers whose gifts staff refund here; a card provider refunds its own.
BOOKED_HERE = ("bank", "demo")


def _require(user: User | None, perm: str) -> None:
    if user is None or not user.has_perm(perm):
        raise PermissionDenied(_("Your role may not do this."))


def refundable(donation: Donation) -> int:
    """What can still be asked back: the gift minus what was refunded, disputed or requested."""
    requested = (
        Refund.objects.filter(donation=donation, status=RefundStatus.REQUESTED).aggregate(total=Sum("amount"))["total"]
        or 0
    )
    return donation.amount - donation.refunded - donation.disputed - requested


def request_refund(donation: Donation, *, amount: int, reason: str, by: User) -> Refund:
    _require(by, REQUEST)
    if not reason.strip():
        raise DonationRefused(_("Say why the money goes back."))
    with transaction.atomic():
        locked = Donation.objects.select_for_update().get(pk=donation.pk)
        if locked.provider not in BOOKED_HERE:
            raise DonationRefused(
                _("A card gift is refunded at its provider; the provider's refund event books it here by itself.")
            )
        if locked.status != DonationStatus.SUCCEEDED:
            raise DonationRefused(_("Only a gift that was received can be refunded."))
        if not 0 < amount <= refundable(locked):
            raise DonationRefused(_("The refund must be more than nothing and at most what the gift still holds."))
        refund = Refund.objects.create(donation=locked, amount=amount, reason=reason.strip(), requested_by=by)
        audit(by, "refund.request", refund, fields=["amount", "reason"])
    return refund


def _decided(refund: Refund, by: User) -> Refund:
    locked = Refund.objects.select_for_update().get(pk=refund.pk)
    if locked.status != RefundStatus.REQUESTED:
        raise NotInReview(_("This refund was decided before."))
    if locked.requested_by_id == by.pk:
        raise DonationRefused(_("You requested this refund: someone else in finance must approve it."))
    return locked


def approve_refund(refund: Refund, *, by: User) -> Refund:
    """The second person approves: the refund is booked at once."""
    _require(by, APPROVE)
    with transaction.atomic():
        locked = _decided(refund, by)
        take_back(locked.donation, kind=TransferKind.REFUND, key=f"staff-refund:{locked.pk}", amount=locked.amount)
        locked.status, locked.decided_by, locked.decided_at = RefundStatus.BOOKED, by, timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        audit(by, "refund.approve", locked, fields=["status"])
    refund.refresh_from_db()
    return refund


def reject_refund(refund: Refund, *, by: User) -> Refund:
    _require(by, APPROVE)
    with transaction.atomic():
        locked = _decided(refund, by)
        locked.status, locked.decided_by, locked.decided_at = RefundStatus.REJECTED, by, timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        audit(by, "refund.reject", locked, fields=["status"])
    refund.refresh_from_db()
    return refund
