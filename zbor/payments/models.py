"""Provider events as received, each stored once under the provider's event id."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from .layout_checks import check_layout


class EventStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    #: Could not be applied yet (a refund before its payment); applied when the payment is.
    DEFERRED = "deferred", _("Waiting for its payment")
    IGNORED = "ignored", _("Ignored")
    #: Money moved at the provider but Zbor could not book it (wrong currency, no amount):
    #: finance must look; `zbor reconcile` lists these.
    ATTENTION = "attention", _("Needs attention")
    #: A payment whose amount differs from its donation's (or exceeds the per-donation maximum,
    #: or came in another currency): not booked, waiting for finance to accept or return it.
    REVIEW = "review", _("Amount differs: finance decides")
    #: Finance decided not to book this payment (``reason`` says why); the money is to be given
    #: back at the provider by hand.
    DECLINED = "declined", _("Not booked: finance returns it")
    #: Handling raised: the stranded-event sweep (zbor.donations.stranded) retries it with a
    #: growing delay, and after its last attempt marks it ATTENTION with the error kept.
    FAILED = "failed", _("Failed, will be retried")


class PaymentEventRecord(models.Model):
    provider = models.CharField(_("provider"), max_length=16)
    event_id = models.CharField(_("event id"), max_length=255)
    type = models.CharField(_("type"), max_length=32)
    #: The reduced event (zbor.payments.base.PaymentEvent.as_json): never the provider's raw
    #: payload, which carries the donor's name, email and address.
    data = models.JSONField(_("data"), default=dict)
    checkout_reference = models.CharField(max_length=255, blank=True, db_index=True)
    payment_reference = models.CharField(max_length=255, blank=True, db_index=True)
    status = models.CharField(_("status"), max_length=16, choices=EventStatus.choices, default=EventStatus.RECEIVED)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    error = models.TextField(_("last error"), blank=True)
    #: The stranded-event sweep retries the event no earlier than this; set when it claims the
    #: event, so that a second worker does not take it while the first is still handling it.
    retry_at = models.DateTimeField(_("next retry"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    #: What the donation was pledged at when this payment's amount differed from it: with the
    #: amount received (``data``) both figures stay visible after finance has decided.
    pledged = models.BigIntegerField(
        _("pledged amount"),
        null=True,
        blank=True,
        help_text=_("What the donation was pledged at when money of another amount arrived (minor units)."),
    )
    #: Why finance did not book the payment (status DECLINED).
    reason = models.TextField(
        _("finance's reason"), blank=True, help_text=_("Why finance returned the money instead of booking it.")
    )

    class Meta:
        verbose_name = _("payment event")
        verbose_name_plural = _("payment events")
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="payment_event_once")]
        indexes = [models.Index(fields=["status"], name="payment_event_status")]

    def __str__(self) -> str:
        return f"{self.provider}:{self.event_id}"


class StatementLayout(models.Model):
    """How one bank writes its CSV statements: enough to read date, amount, currency, the
    remittance text and the bank's id from each line, and nothing else (never the payer's
    name or account). Read by ``zbor.payments.bank_csv``; proposed by ``zbor.payments.csv_detect``."""

    class Delimiter(models.TextChoices):
        SEMICOLON = ";", _("Semicolon ;")
        COMMA = ",", _("Comma ,")
        TAB = "\t", _("Tab")
        PIPE = "|", _("Vertical bar |")

    class DecimalSeparator(models.TextChoices):
        COMMA = ",", _("Comma: 1234,56")
        POINT = ".", _("Point: 1234.56")

    class ThousandsSeparator(models.TextChoices):
        NONE = "", _("None: 1234,56")
        POINT = ".", _("Point: 1.234,56")
        SPACE = " ", _("Space: 1 234,56")
        COMMA = ",", _("Comma: 1,234.56")
        APOSTROPHE = "'", _("Apostrophe: 1'234.56")

    class Encoding(models.TextChoices):
        UTF8 = "utf-8", "UTF-8"
        UTF8_BOM = "utf-8-sig", _("UTF-8 with a byte order mark")
        CP1250 = "cp1250", _("Windows-1250 (Polish, Czech…)")
        CP1251 = "cp1251", _("Windows-1251 (Cyrillic)")
        CP1252 = "cp1252", _("Windows-1252 (German, Western Europe)")
        CP1257 = "cp1257", _("Windows-1257 (Baltic)")
        LATIN2 = "iso-8859-2", _("ISO-8859-2 (Central Europe)")
        LATIN7 = "iso-8859-13", _("ISO-8859-13 (Baltic)")

    name = models.CharField(
        _("name"), max_length=100, unique=True, help_text=_("For example: Sparkasse, mBank, Swedbank LT.")
    )
    delimiter = models.CharField(_("delimiter"), max_length=1, choices=Delimiter.choices, default=Delimiter.SEMICOLON)
    decimal_separator = models.CharField(
        _("decimal separator"), max_length=1, choices=DecimalSeparator.choices, default=DecimalSeparator.COMMA
    )
    thousands_separator = models.CharField(
        _("thousands separator"),
        max_length=1,
        choices=ThousandsSeparator.choices,
        blank=True,
        default=ThousandsSeparator.NONE,
    )
    encoding = models.CharField(_("encoding"), max_length=16, choices=Encoding.choices, default=Encoding.UTF8)
    date_format = models.CharField(
        _("date format"),
        max_length=32,
        default="%d.%m.%Y",
        help_text=format_lazy(
            _(
                "{day} day, {month} month, {year} year with four digits, {short_year} with two. Examples: {german} for 28.11.2026, {iso} for 2026-11-28."
            ),
            day="%d",
            month="%m",
            year="%Y",
            short_year="%y",
            german="%d.%m.%Y",
            iso="%Y-%m-%d",
        ),
    )
    header_line = models.PositiveSmallIntegerField(
        _("header line"),
        default=1,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_(
            "The line that names the columns (1 is the first line of the file). Lines above it, such as the account or the period, are skipped. 0: the first line that names all the columns below, for banks whose preamble changes in length."
        ),
    )
    footer_lines = models.PositiveSmallIntegerField(
        _("lines at the end to skip"),
        default=0,
        validators=[MaxValueValidator(20)],
        help_text=_(
            "Lines after the table that are not transactions, such as a closing balance. Empty lines are always skipped."
        ),
    )
    date_column = models.CharField(
        _("date column"),
        max_length=100,
        help_text=_("The booking date, as the header names it. Examples: Buchungstag, Data operacji, Data."),
    )
    amount_column = models.CharField(
        _("amount column"),
        max_length=100,
        blank=True,
        help_text=_(
            "Signed amount: negative for money out. Examples: Betrag, Kwota, Suma. Leave empty when the bank has separate columns for money in and out."
        ),
    )
    credit_column = models.CharField(
        _("money in column"),
        max_length=100,
        blank=True,
        help_text=_("Only without an amount column. Examples: Haben, Uznania, Kreditas."),
    )
    debit_column = models.CharField(
        _("money out column"),
        max_length=100,
        blank=True,
        help_text=_("Only without an amount column. Examples: Soll, Obciążenia, Debetas."),
    )
    direction_column = models.CharField(
        _("money in or out column"),
        max_length=100,
        blank=True,
        help_text=_(
            "Only with an amount column whose amounts are never negative: the column that says whether money came in or went out. Examples: Soll/Haben, Strona, Debetas/Kreditas."
        ),
    )
    credit_marker = models.CharField(
        _("marker of money in"),
        max_length=30,
        blank=True,
        help_text=_("What that column says for money in. Examples: H, K, C, CRDT."),
    )
    debit_marker = models.CharField(
        _("marker of money out"),
        max_length=30,
        blank=True,
        help_text=_("What that column says for money out. Examples: S, D, DBIT."),
    )
    currency_column = models.CharField(
        _("currency column"),
        max_length=100,
        blank=True,
        help_text=_("Examples: Währung, Waluta, Valiuta. Leave empty to give a fixed currency."),
    )
    currency = models.CharField(
        _("fixed currency"),
        max_length=3,
        blank=True,
        help_text=_("ISO code of the account's currency when no column holds it, e.g. EUR or PLN."),
    )
    reference_columns = models.CharField(
        _("remittance text columns"),
        max_length=300,
        help_text=_(
            "Where the payer writes the donation's reference. Examples: Verwendungszweck, Tytuł, Mokėjimo paskirtis. Several columns: separate them with |. Never the payer's name."
        ),
    )
    transaction_id_column = models.CharField(
        _("transaction id column"),
        max_length=100,
        blank=True,
        help_text=_(
            "The bank's own number for the line, so that importing it again adds nothing. Examples: Nr transakcji, Įrašo numeris. When the bank gives none, leave empty: each line is then known by what it says."
        ),
    )

    class Meta:
        verbose_name = _("bank statement layout")
        verbose_name_plural = _("bank statement layouts")

    def __str__(self) -> str:
        return self.name

    @property
    def reference_column_list(self) -> list[str]:
        return [name.strip() for name in self.reference_columns.split("|") if name.strip()]

    @property
    def key_prefix(self) -> str:
        """Keys of lines read with this layout start with it: banks' ids only mean something per bank."""
        return f"csv-layout{self.pk}"

    def clean(self) -> None:
        check_layout(self)
