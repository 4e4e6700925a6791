"""Monthly gifts: a donor's promise to give every month, by card (a provider's subscription),
by standing order at their bank, or through the demo. Each month's payment is an ordinary
``Donation`` (``Donation.monthly_gift``), booked like any other."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zbor.campaigns.models import Campaign


class MonthlyStatus(models.TextChoices):
    PENDING = "pending", _("Pending")  # form sent; checkout not completed / bank: no transfer yet
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")  # the donor paused it
    FAILING = "failing", _("Failing")  # the last card payment failed
    LAPSED = "lapsed", _("Lapsed")  # bank standing order: two expected months missed
    STOPPED = "stopped", _("Stopped")  # the donor or staff stopped it, or the provider ended it


class StopReason(models.TextChoices):
    NONE = "", _("Not stopped")
    DONOR = "donor", _("By the donor")
    STAFF = "staff", _("By staff")
    PROVIDER = "provider", _("By the payment provider")
    LAPSED = "lapsed", _("Lapsed")


class MonthlyGift(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    #: What the donor chose: a programme fund, or a personal campaign (its money goes to the
    #: campaign's fund once it closes: ``services.monthly_destination``).
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="+", verbose_name=_("campaign"))
    amount = models.BigIntegerField(_("amount"), help_text=_("In minor units of the currency."))
    currency = models.CharField(_("currency"), max_length=3)
    provider = models.CharField(_("payment method"), max_length=16)
    status = models.CharField(_("status"), max_length=16, choices=MonthlyStatus.choices, default=MonthlyStatus.PENDING)
    #: The provider's subscription id ("sub_…"), the demo's "demo_sub_…", or the bank's permanent
    #: standing-order reference. Empty only while a card checkout is pending.
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    #: The checkout that starts the gift (a Checkout Session, the demo's checkout).
    checkout_reference = models.CharField(_("checkout reference"), max_length=255, blank=True)
    #: Where the donor completes the first payment; empty for the bank.
    checkout_url = models.URLField(max_length=2000, blank=True)
    #: The provider's customer ("cus_…"), deleted at the provider when the gift stops.
    customer_reference = models.CharField(_("customer reference"), max_length=255, blank=True)
    #: Needed to manage or stop the gift while it runs; cleared when it stops (plus the receipt period).
    email = models.EmailField(_("email"), blank=True)
    language = models.CharField(max_length=8, default="en")
    idempotency_key = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)
    last_paid_at = models.DateTimeField(_("last paid"), null=True, blank=True)
    #: Bank: when the next transfer is expected (a month after the last).
    next_expected_on = models.DateField(_("next expected"), null=True, blank=True)
    stop_reason = models.CharField(
        _("stop reason"), max_length=16, choices=StopReason.choices, default=StopReason.NONE, blank=True
    )

    class Meta:
        verbose_name = _("monthly gift")
        verbose_name_plural = _("monthly gifts")
        ordering = ["-created_at"]
        permissions = [("stop_monthly", _("Can stop a monthly gift"))]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="monthly_amount_positive"),
            models.UniqueConstraint(
                fields=["provider", "reference"], condition=~Q(reference=""), name="monthly_reference_once"
            ),
            models.UniqueConstraint(
                fields=["provider", "checkout_reference"],
                condition=~Q(checkout_reference=""),
                name="monthly_checkout_once",
            ),
        ]
        indexes = [models.Index(fields=["campaign", "status"], name="monthly_campaign_status")]

    def __str__(self) -> str:
        return str(self.public_id)[:8]
