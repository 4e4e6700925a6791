"""Business actions on donations."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from zbor.campaigns.models import Campaign, Need

from .models import Donation, DonationStatus


def record_demo_donation(campaign: Campaign, *, amount: int, need: Need | None = None) -> Donation:
    """A succeeded donation for the demo data. Refused outside demo settings: real money only
    ever enters through a payment provider."""
    if not getattr(settings, "ZBOR_DEMO", False):
        raise ImproperlyConfigured("Demo donations can only be recorded with demo settings.")
    if amount <= 0:
        raise ValueError("A donation amount must be positive.")
    if need is not None and need.campaign_id != campaign.pk:
        raise ValueError("The need belongs to another campaign.")
    with transaction.atomic():
        return Donation.objects.create(
            campaign=campaign,
            need=need,
            amount=amount,
            currency=campaign.currency,
            status=DonationStatus.SUCCEEDED,
            succeeded_at=timezone.now(),
        )
