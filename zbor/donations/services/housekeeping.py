"""Housekeeping: what the daily clean-up forgets of donations that never completed."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from ..models import BankStatementLine, Donation, DonationStatus, LineStatus, MessageStatus
from .monthly import expire_pending_gifts, forget_stopped_emails


def purge_expired_emails() -> int:
    """Forget emails of donations that never completed within the retention period, and let
    bank pledges nobody paid expire (their reference no longer matches a statement line). A
    pledge whose money arrived with another amount does not expire while finance decides.
    Monthly gifts never started stop (``expire_pending_gifts``)."""
    now = timezone.now()
    cutoff = now - timedelta(days=settings.ZBOR_EMAIL_RETENTION_DAYS)
    old = Donation.objects.filter(created_at__lt=cutoff, receipt_sent_at__isnull=True)
    in_review = BankStatementLine.objects.filter(status=LineStatus.REVIEW, donation__isnull=False).values(
        "donation_id"
    )
    expired = (
        old.filter(status=DonationStatus.PENDING, provider="bank")
        .exclude(pk__in=in_review)
        .update(status=DonationStatus.EXPIRED, email="", public_name="", message="", message_status=MessageStatus.NONE)
    )
    forgotten = old.exclude(email="").update(email="") + expired
    return forgotten + forget_stopped_emails(cutoff) + expire_pending_gifts(now)
