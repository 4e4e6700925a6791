"""Erasing a donor on their request: what Zbor holds about them goes, the money stays."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from zbor.accounts.services import audit

from ..models import Donation, MessageStatus, MonthlyGift, MonthlyStatus, StopReason
from .monthly_changes import stop_monthly

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def erase_donor(email: str, *, by: User | None, label: str = "") -> int:
    """Clear the email, public name and words of support of every donation made with ``email``
    (any case), audited in the same transaction without the address (``by``, or a command named
    by ``label``); first stop that address's monthly gifts and forget it there too
    (``erase_monthly_gifts``). Amounts, the ledger and every total stay as they were. Returns
    how many donations were erased; erasing again is safe.

    The old values may still sit in the database's other files: the caller runs
    ``zbor.db.erase_residue`` once this has committed."""
    erase_monthly_gifts(email, by=by, label=label)
    with transaction.atomic():
        count = Donation.objects.filter(email__iexact=email.strip()).update(
            email="", public_name="", message="", message_status=MessageStatus.NONE
        )
        audit(by, "donor.erase", fields=["email", "public_name", "message"], label=label)
    return count


def erase_monthly_gifts(email: str, *, by: User | None, label: str = "") -> int:
    """Stop every monthly gift given with ``email`` (any case) that still runs, as the donor
    would (the provider stops billing and deletes its customer: ``stop_monthly``), then forget
    the address on all of them, stopped ones too (kept for a receipt still to send). Audited
    without the address. Returns how many gifts had the address.

    A provider that cannot be reached raises (``ProviderUnavailable``) before any address is
    forgotten: a gift whose billing goes on must keep the address it is managed with. The gifts
    stopped so far stay stopped; running the erasure again finishes it."""
    address = email.strip()
    if not address:
        return 0
    gifts = list(MonthlyGift.objects.filter(email__iexact=address))
    for gift in gifts:
        if gift.status != MonthlyStatus.STOPPED:
            stop_monthly(gift, reason=StopReason.DONOR, by=by)
    with transaction.atomic():
        MonthlyGift.objects.filter(pk__in=[gift.pk for gift in gifts]).update(email="")
        if gifts:
            audit(by, "donor.erase_monthly", fields=["email", "status"], label=label)
    return len(gifts)
