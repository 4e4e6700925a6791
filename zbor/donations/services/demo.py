"""The demo's recorded gifts (demo settings only)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from zbor.campaigns.models import Campaign, Need

from ..models import Donation
from .booking import confirm_donation


def record_demo_donation(campaign: Campaign, *, amount: int, need: Need | None = None) -> Donation:
    """A donation through the demo provider, confirmed at once. Demo settings only: real money
    only ever enters through a payment provider's confirmation."""
    if not getattr(settings, "ZBOR_DEMO", False):
        raise ImproperlyConfigured("Demo donations can only be recorded with demo settings.")
    if need is not None and need.campaign_id != campaign.pk:
        raise ValueError("The need belongs to another campaign.")
    donation = Donation.objects.create(
        campaign=campaign,
        need=need,
        amount=amount,
        currency=campaign.currency,
        provider="demo",
        checkout_reference=f"demo_seed_{uuid.uuid4().hex}",
        idempotency_key=uuid.uuid4().hex,
    )
    confirm_donation(donation, amount=amount)
    donation.refresh_from_db()
    return donation
