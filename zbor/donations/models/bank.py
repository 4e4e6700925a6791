"""Bank statements and their lines, and provider payments waiting for finance."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from zbor.money import Money
from zbor.payments.models import PaymentEventRecord

from .donations import Donation


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
    #: Money out that sent a gift back: a bank refund staff booked (``refund``), or a line
    #: finance returned (``returned_line``) (``zbor.donations.bank_returns``).
    SENT_BACK = "sent_back", _("Money out: sent back to a donor")
    #: A line finance returned (TO_RETURN) whose money out is on a statement now.
    RETURNED = "returned", _("Returned to the sender")
    #: Money in from selling the foundation's crypto (``zbor.donations.conversions``): booked
    #: from the crypto wallet to the bank, the rest of the crypto's book value as a fee.
    CONVERSION = "conversion", _("Conversion of crypto")


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
    #: The bank refund an outgoing line sent (status SENT_BACK).
    refund = models.OneToOneField("Refund", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    #: The line an outgoing line sent back (status SENT_BACK; that line is RETURNED).
    returned_line = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("returned line")
    )
    #: The pledge's amount when the line arrived with another (status REVIEW): kept so that both
    #: figures stay visible after finance has decided.
    pledged = models.BigIntegerField(
        _("pledged amount"),
        null=True,
        blank=True,
        help_text=_("What the donation was pledged at when money of another amount arrived (minor units)."),
    )
    #: The standing order (a bank monthly gift) whose reference the line carries: the month it
    #: paid is ``donation``; a stopped one's line waits in the unmatched queue for finance.
    monthly_gift = models.ForeignKey(
        "donations.MonthlyGift",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("standing order"),
    )
    #: Why finance returns the money (status TO_RETURN); what the money is (NOT_DONATION,
    #: OTHER_EXPENSE, CONVERSION); how a reversal was settled.
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
