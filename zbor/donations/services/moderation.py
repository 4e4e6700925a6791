"""Moderating donors' words of support."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from zbor.accounts.services import audit, require

from ..models import Donation, MessageStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def moderate_message(donation: Donation, *, approve: bool, by: User | None) -> None:
    """Make words of support public, or keep them hidden for good. Editors' job; audited."""
    require(by, "donations.moderate_messages", "Your role may not moderate words of support.")
    with transaction.atomic():
        Donation.objects.filter(pk=donation.pk).exclude(message="").update(
            message_status=MessageStatus.APPROVED if approve else MessageStatus.REJECTED
        )
        audit(
            by,
            "donation.message.approve" if approve else "donation.message.reject",
            donation,
            fields=["message_status"],
        )
