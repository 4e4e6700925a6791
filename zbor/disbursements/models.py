"""Payouts: money paid out against one need, on two people's say, with proof."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zbor.campaigns.models import Campaign, Need

from .crypto_proof import Network


class Channel(models.TextChoices):
    BANK_ABROAD = "bank_abroad", _("Bank account abroad")
    #: The public sees "Crypto transfer" and nothing more; the network, the amount in the coin
    #: and the (encrypted) transaction id are finance's (``crypto_proof``).
    CRYPTO = "crypto", _("Crypto transfer")
    IN_KIND = "in_kind", _("In-kind purchase")
    CASH = "cash", _("Cash")


class PayoutStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    PAID = "paid", _("Paid")


#: ``proof_name`` of a paid payout whose proof was destroyed with the beneficiary's private data.
PURGED = "purged"

#: Requested or approved but not paid: the money is spoken for.
RESERVING = (PayoutStatus.REQUESTED, PayoutStatus.APPROVED)


class Payout(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="+", verbose_name=_("campaign"))
    need = models.ForeignKey(Need, on_delete=models.PROTECT, related_name="+", verbose_name=_("need"))
    amount = models.BigIntegerField(
        _("amount"),
        help_text=_(
            "In minor units of the campaign's currency. For a crypto transfer: its value in this "
            "currency on the day it is paid."
        ),
    )
    currency = models.CharField(_("currency"), max_length=3)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    purpose = models.CharField(
        _("purpose"), max_length=300, help_text=_("What the money pays for. Not shown publicly.")
    )
    #: Encrypted (zbor.crypto): who receives it and how. Readable only with view_payout_recipient.
    recipient_secret = models.TextField(editable=False)
    status = models.CharField(_("status"), max_length=16, choices=PayoutStatus.choices, default=PayoutStatus.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_reason = models.CharField(_("reason"), max_length=300, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    #: The proof of payment, metadata stripped and encrypted in private storage.
    proof_name = models.CharField(max_length=64, blank=True, editable=False)
    proof_content_type = models.CharField(max_length=64, blank=True, editable=False)
    #: A crypto payout's proof, recorded when it is marked paid (``crypto_proof``): the network,
    #: the amount sent in the coin, and — encrypted, readable only with view_payout_recipient —
    #: the transaction id and the receiving address. Purging the beneficiary's private data
    #: empties the amount and the secret (with the date they would find the transaction on the
    #: public chain); the network stays, so a paid crypto payout still shows it had its proof.
    crypto_network = models.CharField(
        _("crypto network"), max_length=16, choices=Network.choices, blank=True, editable=False
    )
    crypto_amount = models.CharField(
        _("amount in the coin"),
        max_length=32,
        blank=True,
        editable=False,
        help_text=_("What was sent, in BTC or USDT, as a decimal number."),
    )
    crypto_proof_secret = models.TextField(blank=True, editable=False)

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_positive"),
            models.CheckConstraint(
                # A file (a receipt), or for a crypto transfer its transaction (the network is
                # set only together with the encrypted transaction id: services.mark_paid).
                condition=~Q(status="paid") | (Q(paid_at__isnull=False) & (~Q(proof_name="") | ~Q(crypto_network=""))),
                name="payout_paid_has_proof",
            ),
            models.CheckConstraint(
                condition=Q(crypto_network="") | Q(channel="crypto"), name="payout_crypto_proof_only_for_crypto"
            ),
        ]
        permissions = [
            ("approve_payout", _("Can approve or reject another person's payout")),
            ("view_payout_recipient", _("Can read payout recipient details")),
            ("export_payouts", _("Can export payouts")),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_status_display()}"

    @property
    def reference(self) -> str:
        return f"payout:{self.pk}"


class MoveStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested: a second person decides")
    APPROVED = "approved", _("Approved and booked")
    REJECTED = "rejected", _("Rejected")


class Move(models.Model):
    """Money moved from one need (or a campaign's money beyond its goal) to another, in the same
    campaign or another of the same currency: requested by one person in finance, approved by a
    second, then booked as one ledger group (``services.approve_move``; docs/finance.md, "Moving
    money"). A need left empty (``None``) means the campaign's money beyond its goal."""

    source_campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="+", verbose_name=_("from campaign")
    )
    source_need = models.ForeignKey(
        Need,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("from need"),
        help_text=_("Empty: the campaign's money beyond its goal."),
    )
    target_campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="+", verbose_name=_("to campaign")
    )
    target_need = models.ForeignKey(
        Need,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("to need"),
        help_text=_("Empty: the campaign's money beyond its goal."),
    )
    amount = models.BigIntegerField(_("amount"), help_text=_("In minor units of the campaigns' currency."))
    currency = models.CharField(_("currency"), max_length=3)
    reason = models.TextField(_("reason"), help_text=_("Why the money moves: kept with the move, not shown publicly."))
    status = models.CharField(
        _("status"), max_length=16, choices=MoveStatus.choices, default=MoveStatus.REQUESTED, editable=False
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("move of money")
        verbose_name_plural = _("moves of money")
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="move_amount_positive"),
            models.CheckConstraint(
                condition=Q(status="requested", decided_by__isnull=True, decided_at__isnull=True)
                | (~Q(status="requested") & Q(decided_by__isnull=False, decided_at__isnull=False)),
                name="move_decided_has_decider",
            ),
        ]
        permissions = [("approve_move", _("Can approve or reject a move of money another person requested"))]

    def __str__(self) -> str:
        return f"move #{self.pk}"

    @property
    def reference(self) -> str:
        return f"move:{self.pk}"
