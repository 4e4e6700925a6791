"""Donations, holding only what a donation needs: no name, no email, no address, no IP.

This first cut records amounts and their state; the donate flow, payment providers and the
ledger that becomes the source of every total arrive with the donations issue.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from zbor.campaigns.models import Campaign, Need


class DonationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class Donation(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="+")
    # Earmarked to one need of the campaign, or None for "where it is needed most".
    need = models.ForeignKey(Need, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    amount = models.BigIntegerField(_("amount"), help_text=_("In minor units of the currency."))
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(_("status"), max_length=16, choices=DonationStatus.choices, default=DonationStatus.PENDING)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    succeeded_at = models.DateTimeField(_("succeeded"), null=True, blank=True)

    class Meta:
        verbose_name = _("donation")
        verbose_name_plural = _("donations")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="donation_amount_positive"),
        ]
        indexes = [models.Index(fields=["campaign", "status"], name="donation_campaign_status")]

    def __str__(self) -> str:
        return f"{self.public_id}"
