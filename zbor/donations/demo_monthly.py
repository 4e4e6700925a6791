"""The demo's second month: every active demo gift billed once, through the same event path a
real provider's webhook takes (demo settings only)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from zbor.payments.demo import DemoProvider
from zbor.payments.models import EventStatus

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
