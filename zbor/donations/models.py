"""Donations, holding only what a donation needs.

No account, no phone, no address, no IP. A public name only if the donor typed one; an email
only if they asked for a receipt (a bank pledge's transfer details go to it too), deleted once
the receipt is sent or the donation fails, and after ``ZBOR_EMAIL_RETENTION_DAYS`` at the latest.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zbor.campaigns.models import Campaign, Need
from zbor.money import Money
from zbor.payments.models import PaymentEventRecord


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


class StatementFormat(models.TextChoices):
    CAMT053 = "camt053", "camt.053"
    CSV = "csv", "CSV"


class BankStatement(models.Model):
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    lines_total = models.PositiveIntegerField(_("lines"), default=0)
    lines_new = models.PositiveIntegerField(_("new lines"), default=0)
    lines_matched = models.PositiveIntegerField(_("matched"), default=0)
    #: The balances a camt.053 statement carries (OPBD, CLBD), in minor units of ``currency``;
    #: a CSV carries none. ``previous_closing`` is the last statement's closing balance when the
    #: opening differed from it (docs/finance.md, "The bank in the books").
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    opening_balance = models.BigIntegerField(_("opening balance"), null=True, blank=True)
    closing_balance = models.BigIntegerField(_("closing balance"), null=True, blank=True)
    closed_on = models.DateField(_("closing date"), null=True, blank=True)
    previous_closing = models.BigIntegerField(_("last statement's closing balance"), null=True, blank=True)

    class Meta:
        verbose_name = _("bank statement")
        verbose_name_plural = _("bank statements")
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.uploaded_at:%Y-%m-%d}"


class LineStatus(models.TextChoices):
    MATCHED = "matched", _("Matched to a donation")
    UNMATCHED = "unmatched", _("Waiting to be assigned")
    ASSIGNED = "assigned", _("Assigned by staff")
    OUTGOING = "outgoing", _("Money out (not a donation)")
    REVERSAL = "reversal", _("Reversal: check by hand")
    #: A credit naming a pending pledge but of another amount or currency, or above the
    #: per-donation maximum: not booked until finance accepts or returns it.
    REVIEW = "review", _("Amount differs: finance decides")
    TO_RETURN = "to_return", _("To return: finance sends it back by hand")
    #: Money in that is no donation (a membership fee): booked as the foundation's other income.
    NOT_DONATION = "not_donation", _("Not a donation: other income")
    #: A reversal finance has looked at and settled (``reason`` says how).
    REVERSAL_HANDLED = "reversal_handled", _("Reversal handled")
    #: Money out that is no payout: booked as the foundation's other expense, with why.
    OTHER_EXPENSE = "other_expense", _("Money out: other expense")


class BankStatementLine(models.Model):
    statement = models.ForeignKey(BankStatement, on_delete=models.PROTECT, related_name="lines")
    #: The bank's id for the line; the same statement imported twice adds nothing.
    key = models.CharField(max_length=200, unique=True)
    booked_on = models.DateField(_("booked"))
    amount = models.BigIntegerField(_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    #: The remittance text, kept only until the line is matched or assigned.
    text = models.CharField(_("payment reference text"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=LineStatus.choices)
    donation = models.OneToOneField(Donation, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    #: The payout an outgoing line paid (``zbor.donations.bank_out``): the payee's name and
    #: account are never stored, only this link.
    payout = models.OneToOneField(
        "disbursements.Payout", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    #: The pledge's amount when the line arrived with another (status REVIEW): kept so that both
    #: figures stay visible after finance has decided.
    pledged = models.BigIntegerField(
        _("pledged amount"),
        null=True,
        blank=True,
        help_text=_("What the donation was pledged at when money of another amount arrived (minor units)."),
    )
    #: Why finance returns the money (status TO_RETURN).
    reason = models.TextField(
        _("finance's reason"), blank=True, help_text=_("Why finance returned the money instead of booking it.")
    )

    class Meta:
        verbose_name = _("bank statement line")
        verbose_name_plural = _("bank statement lines")
        ordering = ["-booked_on", "pk"]

    def __str__(self) -> str:
        return f"{self.booked_on} {Money(self.amount, self.currency)}"


class PaymentInReview(PaymentEventRecord):
    """A provider's payment whose amount differs from its donation's, as finance decides on it
    (the donation is found by the event's checkout reference)."""

    class Meta:
        proxy = True
        verbose_name = _("payment whose amount differs")
        verbose_name_plural = _("payments whose amount differs")
        default_permissions = ("view",)


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested: a second person approves")
    BOOKED = "booked", _("Approved and booked")
    REJECTED = "rejected", _("Rejected")


class Refund(models.Model):
    """A refund staff give of a bank or demo gift (a card gift's refunds come from the provider):
    requested by one person in finance, approved by another, then booked (services/refunds.py)."""

    donation = models.ForeignKey(Donation, on_delete=models.PROTECT, related_name="+", verbose_name=_("donation"))
    amount = models.BigIntegerField(_("amount"))
    reason = models.TextField(_("reason"), help_text=_("Why the money goes back: kept with the refund."))
    status = models.CharField(
        _("status"), max_length=16, choices=RefundStatus.choices, default=RefundStatus.REQUESTED, editable=False
    )
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
