"""Provider events as received, each stored once under the provider's event id."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


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
