"""Donations and their confirmations, receipts' numbering and words of support."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zbor.campaigns.models import Campaign, Need


class DonationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


class MessageStatus(models.TextChoices):
    NONE = "", _("No message")
    PENDING = "pending", _("Waiting for review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Donation(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Indexed by the campaign-first indexes below (a donation row is written with every index
    # it is in: on the busiest day, each one more is a page more in every write).
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="+", verbose_name=_("campaign"), db_index=False
    )
    # Earmarked to one need of the campaign, or None for "where it is needed most".
    need = models.ForeignKey(
        Need, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("need"), db_index=False
    )
    amount = models.BigIntegerField(_("amount"), help_text=_("In minor units of the currency."))
    currency = models.CharField(_("currency"), max_length=3)
    status = models.CharField(
        _("status"), max_length=16, choices=DonationStatus.choices, default=DonationStatus.PENDING
    )
    #: How much has gone back to the donor through refunds, cumulative.
    refunded = models.BigIntegerField(_("refunded"), default=0)
    #: How much card disputes hold back (withdrawn minus reinstated).
    disputed = models.BigIntegerField(_("disputed"), default=0)
    fee = models.BigIntegerField(_("provider fee"), default=0)
    provider = models.CharField(_("payment method"), max_length=16)
    #: The provider's checkout id (Stripe Checkout Session, demo checkout, bank reference).
    checkout_reference = models.CharField(_("checkout reference"), max_length=255, blank=True)
    #: Where the donor completes the payment (the provider's checkout page); empty for the bank.
    checkout_url = models.URLField(max_length=2000, blank=True)
    #: The provider's payment id (Stripe PaymentIntent), which refunds and disputes name.
    payment_reference = models.CharField(_("payment reference"), max_length=255, blank=True)
    #: The provider's charge id, as its balance exports name it.
    charge_reference = models.CharField(_("charge reference"), max_length=255, blank=True)
    idempotency_key = models.CharField(max_length=64, unique=True, editable=False)
    public_name = models.CharField(_("public name"), max_length=40, blank=True)
    email = models.EmailField(_("email for the receipt"), blank=True)
    receipt_sent_at = models.DateTimeField(_("receipt sent"), null=True, blank=True)
    #: "2026-000123": assigned once, when the receipt is first issued, in an unbroken sequence
    #: per year (``ReceiptCounter``); null for a donation that never had a receipt.
    receipt_number = models.CharField(_("receipt number"), max_length=16, null=True, blank=True, unique=True)
    receipt_issued_at = models.DateTimeField(_("receipt issued"), null=True, blank=True)
    #: Until when one sender (the queued task or the sweep) holds the right to send the
    #: receipt: claimed before sending, so no receipt goes out twice (zbor/donations/receipts.py).
    receipt_claimed_until = models.DateTimeField(_("receipt being sent until"), null=True, blank=True, editable=False)
    #: When the bank-transfer instructions were emailed to a donor who gave an address with a
    #: bank pledge: set before sending, so they go out once (zbor/donations/bank_instructions.py).
    instructions_sent_at = models.DateTimeField(_("transfer details sent"), null=True, blank=True, editable=False)
    message = models.TextField(_("message of support"), blank=True, max_length=500)
    message_status = models.CharField(
        _("message"), max_length=16, choices=MessageStatus.choices, default=MessageStatus.NONE, blank=True
    )
    language = models.CharField(max_length=8, default="en")
    #: The monthly gift this is one month's payment of (None: a one-off gift).
    monthly_gift = models.ForeignKey(
        "donations.MonthlyGift",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        verbose_name=_("monthly gift"),
        db_index=False,  # partial index below: most donations are one-off
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    succeeded_at = models.DateTimeField(_("succeeded"), null=True, blank=True)

    class Meta:
        verbose_name = _("donation")
        verbose_name_plural = _("donations")
        ordering = ["-created_at"]
        permissions = [
            ("moderate_messages", _("Can approve or reject words of support")),
            ("export_donations", _("Can export donations")),
            ("decide_amount", _("Can accept or return money whose amount differs from the pledge")),
            ("resend_receipt", _("Can send a donor's receipt again")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="donation_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded__gte=0)
                & Q(disputed__gte=0)
                & Q(refunded__lte=models.F("amount") - models.F("disputed")),
                name="donation_refund_within_amount",
            ),
            models.UniqueConstraint(
                fields=["provider", "checkout_reference"],
                condition=~Q(checkout_reference=""),
                name="donation_checkout_once",
            ),
        ]
        # Partial where most donations have nothing to index (no need, no reference yet, no
        # message), so that starting a payment writes fewer index pages. SQLite uses a partial
        # index only when the query names its condition (as the refund's lookup by payment
        # reference and the approved messages do); zbor/donations/tests/test_donation_indexes.py checks it.
        indexes = [
            models.Index(fields=["campaign", "status"], name="donation_campaign_status"),
            models.Index(
                fields=["campaign", "message_status"],
                condition=~Q(message_status=""),
                name="donation_campaign_message",
            ),
            models.Index(fields=["need"], condition=Q(need__isnull=False), name="donation_need"),
            models.Index(
                fields=["monthly_gift"], condition=Q(monthly_gift__isnull=False), name="donation_monthly_gift"
            ),
            models.Index(
                fields=["payment_reference"], condition=~Q(payment_reference=""), name="donation_payment_reference"
            ),
            models.Index(
                fields=["charge_reference"], condition=~Q(charge_reference=""), name="donation_charge_reference"
            ),
            # The receipts still to send (the sweep's query): only those rows, for a moment each.
            models.Index(
                fields=["succeeded_at"],
                condition=Q(status="succeeded", receipt_sent_at__isnull=True) & ~Q(email=""),
                name="donation_receipt_due",
            ),
        ]

    def __str__(self) -> str:
        return str(self.public_id)

    @property
    def reference(self) -> str:
        return f"donation:{self.public_id}"


class ReceiptCounter(models.Model):
    """The last receipt number issued in a year. Its row is locked (``select_for_update``) by
    the transaction that numbers a receipt, so numbers are handed out one at a time and a
    number is used only if that transaction commits: no gaps, no doubles."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class WordsOfSupport(Donation):
    """A donation as the editors who moderate its words of support see it: the campaign, the
    public name and the message, nothing of the money, the times, the email or the provider."""

    class Meta:
        proxy = True
        verbose_name = _("words of support")
        verbose_name_plural = _("words of support")
        ordering = ["-pk"]
        default_permissions = ("view",)


class Confirmation(models.Model):
    """A payment confirmed by its provider (or matched on a bank statement), waiting for its
    campaign's lock to be booked. A queue, not a record: the row is deleted in the transaction
    that books it.

    Confirmations to one campaign are booked in order, one batch per turn of the campaign's
    lock (group commit): whoever takes the lock books every confirmation waiting, so a
    campaign receiving hundreds of donations a second takes its lock a few times a second,
    not hundreds. See ``services.confirm_donation``.
    """

    # No foreign-key constraints in the database: a row is written only by a statement that
    # reads its donation (``services.booking._queue``), and their checks would lock the
    # campaign's, the donation's and the event's rows on every confirmation, the very rows the
    # booking locks and updates.
    donation = models.OneToOneField(Donation, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    #: What the provider received, in minor units (a bank transfer may differ from the pledge).
    amount = models.BigIntegerField()
    fee = models.BigIntegerField(default=0)
    payment_reference = models.CharField(max_length=255, blank=True)
    charge_reference = models.CharField(max_length=255, blank=True)
    #: The provider's event, marked processed when the confirmation is booked.
    event = models.ForeignKey(
        "payments.PaymentEventRecord", on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0) & Q(fee__gte=0), name="confirmation_amount_positive")
        ]

    def __str__(self) -> str:
        return f"confirmation of {self.donation_id}"
