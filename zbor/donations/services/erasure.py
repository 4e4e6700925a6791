"""Erasing a donor on their request: what Zbor holds about them goes, the money stays."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from zbor.accounts.services import audit

from ..models import Donation, MessageStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def erase_donor(email: str, *, by: User | None, label: str = "") -> int:
    """Clear the email, public name and words of support of every donation made with ``email``
    (any case), audited in the same transaction without the address (``by``, or a command named
    by ``label``). Amounts, the ledger and every total stay as they were. Returns how many
    donations were erased; erasing again is safe.

    The old values may still sit in the database's other files: the caller runs
    ``zbor.db.erase_residue`` once this has committed."""
    with transaction.atomic():
        count = Donation.objects.filter(email__iexact=email.strip()).update(
            email="", public_name="", message="", message_status=MessageStatus.NONE
        )
        audit(by, "donor.erase", fields=["email", "public_name", "message"], label=label)
    return count
