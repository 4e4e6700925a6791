"""The demo's second month: every active demo gift billed once, through the same event path a
real provider's webhook takes (demo settings only)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from zbor.campaigns.models import Campaign
from zbor.payments.demo import DemoProvider
from zbor.payments.models import EventStatus

from . import services
from .events import receive_event
from .models import Donation, MonthlyGift, MonthlyStatus


def advance_demo_month() -> tuple[int, int]:
    """Bill each active demo gift one month: a MONTHLY_PAID event per gift, its invoice named
    after the month it pays (``demo_inv_<gift>_<n>``). Returns (gifts billed, booked)."""
    if not getattr(settings, "ZBOR_DEMO", False):
        raise ImproperlyConfigured("Demo months can only be billed with demo settings.")
    billed = booked = 0
    for gift in MonthlyGift.objects.filter(provider="demo", status=MonthlyStatus.ACTIVE).order_by("pk"):
        month = Donation.objects.filter(monthly_gift=gift).count() + 1
        invoice = f"demo_inv_{gift.public_id.hex}_{month}"
        record = receive_event(
            DemoProvider.monthly_paid(gift.reference, invoice, amount=gift.amount, currency=gift.currency)
        )
        billed += 1
        booked += record.status == EventStatus.PROCESSED
    return billed, booked


def record_demo_monthly_gift(campaign: Campaign, *, amount: int, email: str) -> MonthlyGift:
    """A demo supporter's monthly gift, its checkout completed and its first month paid, through
    the events the demo checkout sends (demo settings only). It keeps no address."""
    if not getattr(settings, "ZBOR_DEMO", False):
        raise ImproperlyConfigured("Demo monthly gifts can only be recorded with demo settings.")
    gift = services.start_monthly(
        campaign, amount=amount, provider="demo", email=email, language="en", idempotency_key=uuid.uuid4().hex
    )
    receive_event(DemoProvider.subscription_started(gift.checkout_reference))
    gift.refresh_from_db()
    first = f"demo_inv_{gift.public_id.hex}_1"
    receive_event(DemoProvider.monthly_paid(gift.reference, first, amount=gift.amount, currency=gift.currency))
    # The address was made up for the form: nothing is ever mailed to a demo supporter (no
    # receipts, no link), as the demo's one-off gifts carry no address either.
    MonthlyGift.objects.filter(pk=gift.pk).update(email="")
    Donation.objects.filter(monthly_gift=gift).update(email="")
    gift.refresh_from_db()
    return gift
