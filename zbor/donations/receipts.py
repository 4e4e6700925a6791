"""Donation receipts: a small PDF (WeasyPrint) in the donor's language, and the email carrying it.

Deliberately neutral: the foundation, an amount, a date and a receipt number. No campaign, no
beneficiary, no donor name — a receipt found in a seized mailbox says as little as possible.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from zbor.money import Money, format_money

from .models import Donation, DonationStatus

log = logging.getLogger(__name__)


class ReceiptNotSent(Exception):
    """The mail server did not take the receipt; the task queue tries again."""


def receipt_number(donation: Donation) -> str:
    return str(donation.public_id)[:8].upper()


def _succeeded_on(donation: Donation) -> date:
    """The day on the receipt. Confirming a donation sets ``succeeded_at``, and only a
    succeeded donation gets a receipt."""
    if donation.succeeded_at is None:
        raise ValueError(f"donation {donation.pk} has not succeeded, so it has no receipt")
    return donation.succeeded_at.date()


def receipt_pdf(donation: Donation) -> bytes:
    """The receipt as PDF, in the donor's language."""
    from babel.dates import format_date
    from weasyprint import HTML  # needs Pango from the system (Debian: libpango-1.0-0)

    language = donation.language
    with translation.override(language):
        html = render_to_string(
            "donations/receipt.html",
            {
                "language": language,
                "foundation": settings.ZBOR_FOUNDATION_NAME,
                "amount": format_money(Money(donation.amount, donation.currency), language),
                "date": format_date(_succeeded_on(donation), format="long", locale=language),
                "number": receipt_number(donation),
            },
        )
    return HTML(string=html).write_pdf()


def send_receipt(donation_id: int) -> None:
    """Email the receipt with its PDF. Raises on a mail failure so the task queue retries; safe
    to run twice (a sent receipt is not sent again)."""
    donation = Donation.objects.filter(pk=donation_id, status=DonationStatus.SUCCEEDED, receipt_sent_at__isnull=True).exclude(email="").first()
    if donation is None:
        return
    language = donation.language
    with translation.override(language):
        amount = format_money(Money(donation.amount, donation.currency), language)
        subject = _("Your donation to %(foundation)s") % {"foundation": settings.ZBOR_FOUNDATION_NAME}
        body = _(
            "Thank you. We received your donation of %(amount)s on %(date)s.\n\n"
            "Reference: %(reference)s\n\n%(foundation)s\n"
        ) % {
            "amount": amount,
            "date": _succeeded_on(donation).isoformat(),
            "reference": receipt_number(donation),
            "foundation": settings.ZBOR_FOUNDATION_NAME,
        }
        message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [donation.email])
        try:
            message.attach(f"receipt-{receipt_number(donation)}.pdf", receipt_pdf(donation), "application/pdf")
        except OSError:
            # No Pango on this machine: the email still confirms the donation.
            log.warning("receipt PDF could not be made (is Pango installed?)")
    try:
        message.send()
    except Exception as exc:
        # Re-raised without the original message (it can name the address), so the task is
        # retried and nothing personal reaches the logs.
        raise ReceiptNotSent(type(exc).__name__) from None
    Donation.objects.filter(pk=donation.pk).update(receipt_sent_at=timezone.now())


def forget_receipt_emails() -> int:
    """Delete receipt emails ZBOR_RECEIPT_EMAIL_DAYS after the receipt was sent."""
    cutoff = timezone.now() - timedelta(days=settings.ZBOR_RECEIPT_EMAIL_DAYS)
    return Donation.objects.filter(receipt_sent_at__lte=cutoff).exclude(email="").update(email="")


def unsent_receipts() -> list[int]:
    """Succeeded donations with an email whose receipt never went out (the queue was down, or
    every retry failed): the daily sweep queues them again."""
    cutoff = timezone.now() - timedelta(hours=1)
    return list(
        Donation.objects.filter(status=DonationStatus.SUCCEEDED, receipt_sent_at__isnull=True, succeeded_at__lt=cutoff)
        .exclude(email="")
        .values_list("pk", flat=True)[:1000]
    )
