"""What the donor (through their signed link) or staff change on a monthly gift: stop, pause,
resume, a new amount. Each is audited.

Providers are told first (cancel, pause, new amount), then Zbor's row changes: a provider
that refuses leaves the gift as it was. The gift's row is locked (``select_for_update``) by
every change, so two changes at once run one after the other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zbor.accounts.services import audit, require
from zbor.payments import registry

from ..exceptions import DonationRefused
from ..models import Donation, DonationStatus, MonthlyGift, MonthlyStatus, StopReason
from .start import max_donation

if TYPE_CHECKING:
    from django.contrib.auth.models import User

#: Staff's permission to stop, pause or change a monthly gift.
MANAGE = "donations.stop_monthly"
#: Gifts that are running (a failing card is still running: the provider retries it).
RUNNING = (MonthlyStatus.ACTIVE, MonthlyStatus.FAILING)


def _receipts_pending(gift: MonthlyGift) -> bool:
    """Whether a paid month still waits for its receipt (which the gift's email may serve)."""
    return (
        Donation.objects.filter(monthly_gift=gift, status=DonationStatus.SUCCEEDED, receipt_sent_at__isnull=True)
        .exclude(email="")
        .exists()
    )


def _lock(gift: MonthlyGift) -> MonthlyGift:
    return MonthlyGift.objects.select_for_update().get(pk=gift.pk)


def _actor(by: User | None, action: str) -> None:
    """Staff need the permission; ``by`` None is the donor, through their signed link."""
    if by is not None:
        require(by, MANAGE, _("Your role may not change monthly gifts."))


def stop_monthly(gift: MonthlyGift, *, reason: str, by: User | None = None) -> bool:
    """Stop a gift: the provider stops billing (unless it ended it itself), its customer is
    deleted there, and the email is forgotten (kept only while a month's receipt is still to
    send; ``purge_expired_emails`` forgets it then). False if it had stopped. Audited."""
    if reason == StopReason.STAFF or by is not None:
        require(by, MANAGE, _("Your role may not stop monthly gifts."))
    if gift.status == MonthlyStatus.STOPPED:
        return False
    provider = registry.get(gift.provider)
    if provider is not None and reason != StopReason.PROVIDER and gift.reference:
        provider.cancel_subscription(gift.reference)
    if provider is not None and gift.customer_reference:
        provider.delete_customer(gift.customer_reference)
    with transaction.atomic():
        locked = _lock(gift)
        if locked.status == MonthlyStatus.STOPPED:
            return False
        locked.status, locked.stop_reason, locked.stopped_at = MonthlyStatus.STOPPED, reason, timezone.now()
        locked.customer_reference = ""
        if not _receipts_pending(locked):
            locked.email = ""
        locked.save(update_fields=["status", "stop_reason", "stopped_at", "customer_reference", "email"])
        audit(by, "monthly_gift.stop", locked, fields=["status", "stop_reason", "email"], label=f"monthly:{reason}")
    gift.refresh_from_db()
    return True


def pause_monthly(gift: MonthlyGift, *, by: User | None = None) -> bool:
    """Pause a running gift (no month is billed until it resumes). Audited."""
    return _set_paused(gift, paused=True, by=by)


def resume_monthly(gift: MonthlyGift, *, by: User | None = None) -> bool:
    """Resume a paused gift. Audited."""
    return _set_paused(gift, paused=False, by=by)


def _set_paused(gift: MonthlyGift, *, paused: bool, by: User | None) -> bool:
    _actor(by, "pause")
    before = RUNNING if paused else (MonthlyStatus.PAUSED,)
    if gift.status not in before:
        return False
    provider = registry.get(gift.provider)
    if provider is not None and gift.reference:
        provider.pause_subscription(gift.reference, paused)
    with transaction.atomic():
        locked = _lock(gift)
        if locked.status not in before:
            return False
        locked.status = MonthlyStatus.PAUSED if paused else MonthlyStatus.ACTIVE
        locked.save(update_fields=["status"])
        audit(by, "monthly_gift.pause" if paused else "monthly_gift.resume", locked, fields=["status"], label="donor")
    gift.refresh_from_db()
    return True


def change_monthly_amount(gift: MonthlyGift, *, amount: int, by: User | None = None) -> None:
    """A new amount from the next month on (the provider is told first). Audited."""
    _actor(by, "change")
    if gift.status == MonthlyStatus.STOPPED:
        raise DonationRefused(_("This monthly gift has stopped."))
    if amount <= 0 or amount > max_donation(gift.currency):
        raise DonationRefused(_("Enter an amount greater than zero."))
    provider = registry.get(gift.provider)
    if provider is not None and gift.reference:
        provider.update_subscription(gift.reference, amount, gift.currency)
    with transaction.atomic():
        locked = _lock(gift)
        locked.amount = amount
        locked.save(update_fields=["amount"])
        audit(by, "monthly_gift.change_amount", locked, fields=["amount"], label="donor")
    gift.refresh_from_db()


def provider_updated(gift: MonthlyGift, *, amount: int | None = None, paused: bool | None = None) -> bool:
    """What the provider says changed (the donor used its own page, or staff its dashboard):
    Zbor's row follows, and the provider is not told back. False if nothing changed."""
    with transaction.atomic():
        locked = _lock(gift)
        fields = []
        if amount is not None and amount > 0 and amount != locked.amount:
            locked.amount = amount
            fields.append("amount")
        if paused is True and locked.status in RUNNING:
            locked.status = MonthlyStatus.PAUSED
            fields.append("status")
        elif paused is False and locked.status == MonthlyStatus.PAUSED:
            locked.status = MonthlyStatus.ACTIVE
            fields.append("status")
        if fields:
            locked.save(update_fields=fields)
    gift.refresh_from_db()
    return bool(fields)
