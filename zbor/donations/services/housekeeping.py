"""Housekeeping: what the daily clean-up forgets of donations that never completed."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from ..models import Donation, DonationStatus, MessageStatus


def purge_expired_emails() -> int:
    """Forget emails of donations that never completed within the retention period, and let
    bank pledges nobody paid expire (their reference no longer matches a statement line)."""
    cutoff = timezone.now() - timedelta(days=settings.ZBOR_EMAIL_RETENTION_DAYS)
    old = Donation.objects.filter(created_at__lt=cutoff, receipt_sent_at__isnull=True)
    expired = old.filter(status=DonationStatus.PENDING, provider="bank").update(
        status=DonationStatus.EXPIRED, email="", public_name="", message="", message_status=MessageStatus.NONE
    )
    return old.exclude(email="").update(email="") + expired
