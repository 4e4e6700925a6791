"""Refunds staff give, and the credit notes that correct a receipt after a refund."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .donations import Donation


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested: a second person approves")
    #: Approved, and asked of the card provider: booked when it answers that the money went.
    SENT = "sent", _("Approved: sent to the card provider, waiting for its answer")
    BOOKED = "booked", _("Approved and booked")
    REJECTED = "rejected", _("Rejected")
    #: The provider refused or failed the refund: nothing was booked; it may be requested again.
    FAILED = "failed", _("Failed at the card provider: nothing booked")


class RefundCover(models.TextChoices):
    """Where a refund of money already paid out from a need is taken from (the need cannot give
    back what it spent): chosen by finance with the refund."""

    AUTOMATIC = "automatic", _("The campaign's unallocated money, then the foundation's reserve")
    UNALLOCATED = "unallocated", _("Only the campaign's unallocated money")
    RESERVE = "reserve", _("Only the foundation's reserve")


class Refund(models.Model):
    """A refund staff give, requested by one person in finance and approved by another
    (services/refunds.py). A bank or demo gift's is booked at approval (the money goes back by
    hand); a card gift's is asked of the provider's API at approval and booked once the provider
    says the money went. Refunds made in the provider's dashboard come as its events instead."""

    donation = models.ForeignKey(Donation, on_delete=models.PROTECT, related_name="+", verbose_name=_("donation"))
    amount = models.BigIntegerField(_("amount"))
    reason = models.TextField(_("reason"), help_text=_("Why the money goes back: kept with the refund."))
    cover = models.CharField(
        _("cover for money already paid out"),
        max_length=16,
        choices=RefundCover.choices,
        default=RefundCover.AUTOMATIC,
        help_text=_(
            "If the need this gift went to has already paid the money out, it cannot give it back: "
            "say where the refund comes from instead. If that source holds too little, the approval is refused."
        ),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=RefundStatus.choices, default=RefundStatus.REQUESTED, editable=False
    )
    #: The card provider's refund id ("re_…") and its last known state there.
    provider_refund_id = models.CharField(_("provider's refund id"), max_length=255, blank=True, editable=False)
    provider_status = models.CharField(_("status at the provider"), max_length=32, blank=True, editable=False)
    #: Why the provider refused or failed it, or did not answer (kept for staff).
    failure = models.TextField(_("provider's answer"), blank=True, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("decided by"),
    )
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-created_at"]
        permissions = [("approve_refund", _("Can approve a refund another person requested"))]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self) -> str:
        return f"refund #{self.pk}"

    @property
    def idempotency_key(self) -> str:
        """The key the provider's API is asked with: one per refund, whoever approves and
        however often, so the provider refunds it once."""
        return f"zbor-refund-{self.donation.public_id}-{self.pk}"


class CreditNoteCounter(models.Model):
    """The last credit note number issued in a year: a sequence of its own, apart from the
    receipts' (``ReceiptCounter``), locked the same way so that it has no gaps and no doubles."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class CreditNote(models.Model):
    """The correction of a donor's receipt after a refund (zbor/donations/credit_notes.py): one
    per refund booked of a gift that had a receipt, issued in the refund's transaction.

    It credits ``amount`` against the receipt and says what ``remaining`` of the gift the
    foundation keeps. Neutral like the receipt: no campaign, no donor."""

    donation = models.ForeignKey(
        Donation, on_delete=models.PROTECT, related_name="credit_notes", verbose_name=_("donation")
    )
    #: "CN-2026-000001": an unbroken sequence per year of issue (``CreditNoteCounter``).
    number = models.CharField(_("credit note number"), max_length=20, unique=True)
    #: The ledger group of the refund it corrects: a refund replayed books nothing and issues nothing.
    key = models.CharField(max_length=255, unique=True, editable=False)
    amount = models.BigIntegerField(_("amount credited"), help_text=_("In minor units of the currency."))
    remaining = models.BigIntegerField(
        _("remaining of the gift"), help_text=_("What the gift still holds after this refund, in minor units.")
    )
    #: When the refund was booked, and the credit note with it.
    issued_at = models.DateTimeField(_("issued"))
    sent_at = models.DateTimeField(_("sent to the donor"), null=True, blank=True)
    #: Until when one sender holds the right to email it, as for receipts.
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        ordering = ["-issued_at", "-pk"]
        default_permissions = ("view",)
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0) & Q(remaining__gte=0), name="credit_note_amount_positive")
        ]

    def __str__(self) -> str:
        return self.number
