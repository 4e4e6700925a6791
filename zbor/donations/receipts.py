"""Donation receipts: a small PDF (WeasyPrint) in the donor's language, and the email carrying it.

Deliberately neutral: the foundation (its legal name, address, registration and tax statement,
from settings), an amount, a date and a receipt number. No campaign, no beneficiary, no donor
name — a receipt found in a seized mailbox says as little as possible.

Receipt numbers ("2026-000123") run in an unbroken sequence per year of issue. A receipt is
numbered once, by the first sender that issues it (``issue_receipt``), in a transaction that
locks the year's counter row: a number is used only when that transaction commits, so two
senders at once never share one and a failure leaves no gap. A resend keeps the number.
"""

from __future__ import annotations

import logging
import smtplib
import socket
from dataclasses import dataclass
from datetime import date, timedelta

from babel.dates import format_date
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from zbor.money import Money, format_money

from .models import BankStatementLine, Donation, DonationStatus, ReceiptCounter
from .monthly_links import manage_note

log = logging.getLogger(__name__)


class ReceiptNotSent(Exception):
    """The mail server did not take the receipt; the task queue tries again (and the sweep).

    ``mail_server_down`` tells a server that cannot be reached (every receipt would fail) from
    one that refused this message (a bad address: the others may still go)."""

    def __init__(self, reason: str, *, mail_server_down: bool = False):
        super().__init__(reason)
        self.mail_server_down = mail_server_down


#: Errors that say the mail server cannot be reached at all, not that it refused one message.
_SERVER_DOWN = (
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    smtplib.SMTPConnectError,
    smtplib.SMTPServerDisconnected,
)


def issue_receipt(donation_id: int) -> Donation:
    """The donation with its receipt number, numbering it now if it has none.

    Locks the donation, then the counter of the current year (in the foundation's time zone),
    always in that order; numbers are handed out in the order of these transactions."""
    with transaction.atomic():
        donation = Donation.objects.select_for_update().get(pk=donation_id)
        if donation.receipt_number:
            return donation
        now = timezone.now()
        year = timezone.localdate(now).year
        ReceiptCounter.objects.get_or_create(year=year)
        counter = ReceiptCounter.objects.select_for_update().get(year=year)
        counter.last += 1
        counter.save(update_fields=["last"])
        donation.receipt_number = f"{year}-{counter.last:06d}"
        donation.receipt_issued_at = now
        donation.save(update_fields=["receipt_number", "receipt_issued_at"])
    return donation


def receipt_number(donation: Donation) -> str:
    if not donation.receipt_number:
        raise ValueError(f"donation {donation.pk} has no receipt yet (issue_receipt numbers it)")
    return donation.receipt_number


def foundation_details(language: str) -> dict[str, str]:
    """What the receipt says of the foundation, from settings. An empty setting is left out."""
    statements = settings.ZBOR_FOUNDATION_TAX_STATEMENTS
    return {
        "name": settings.ZBOR_FOUNDATION_LEGAL_NAME or settings.ZBOR_FOUNDATION_NAME,
        "address": settings.ZBOR_FOUNDATION_ADDRESS,
        "registration": settings.ZBOR_FOUNDATION_REGISTRATION,
        "tax_statement": statements.get(language) or statements.get("default", ""),
    }


def _succeeded_on(donation: Donation) -> date:
    """The day on the receipt. Confirming a donation sets ``succeeded_at``, and only a
    succeeded donation gets a receipt."""
    if donation.succeeded_at is None:
        raise ValueError(f"donation {donation.pk} has not succeeded, so it has no receipt")
    return donation.succeeded_at.date()


def _arrived_on(donation: Donation) -> date:
    """The day the money arrived, as the accountant's export dates it: the bank's booking day
    of the statement line for a bank transfer, else the day the payment was confirmed."""
    booked = BankStatementLine.objects.filter(donation=donation).values_list("booked_on", flat=True).first()
    return booked or _succeeded_on(donation)


def long_date(day: date, language: str) -> str:
    """A day as the receipt writes it, in the donor's language ("29 ноября 2026 г."): the email
    and the PDF name it the same way."""
    return format_date(day, format="long", locale=language)


def receipt_pdf(donation: Donation) -> bytes:
    """The receipt as PDF, in the donor's language."""
    from weasyprint import HTML  # needs Pango from the system (Debian: libpango-1.0-0)

    language = donation.language
    issued = timezone.localdate(donation.receipt_issued_at) if donation.receipt_issued_at else _succeeded_on(donation)
    with translation.override(language):
        html = render_to_string(
            "donations/receipt.html",
            {
                "language": language,
                "foundation": foundation_details(language),
                "amount": format_money(Money(donation.amount, donation.currency), language),
                "date": long_date(_arrived_on(donation), language),
                "issued": long_date(issued, language),
                "number": receipt_number(donation),
                "monthly": donation.monthly_gift_id is not None,
            },
        )
    return HTML(string=html).write_pdf()


#: How long a sender holds its claim on a receipt: longer than any send takes (the PDF, and the
#: mail server's EMAIL_TIMEOUT). A sender that died holding it leaves the receipt due again then.
CLAIM = timedelta(minutes=10)


def _due(now):
    """Receipts to send: succeeded donations with an email, not sent, not held by a sender."""
    return (
        Donation.objects.filter(status=DonationStatus.SUCCEEDED, receipt_sent_at__isnull=True)
        .exclude(email="")
        .filter(Q(receipt_claimed_until__isnull=True) | Q(receipt_claimed_until__lt=now))
    )


def _claim(donation_id: int) -> bool:
    """Take the right to send this receipt, for CLAIM. One UPDATE, atomic by itself: of two
    senders (the queued task, its retry, the sweep on another worker) exactly one gets it."""
    now = timezone.now()
    return _due(now).filter(pk=donation_id).update(receipt_claimed_until=now + CLAIM) == 1


def send_receipt(donation_id: int) -> None:
    """Email the receipt with its PDF, at most once.

    The receipt is claimed first (``_claim``); a sender that does not get the claim does
    nothing (someone else is sending it, or it is sent). On a mail failure the claim is given
    back and ReceiptNotSent raised, so the task queue retries (or the sweep does later). Safe to
    run twice, and from several workers at once."""
    if not _claim(donation_id):
        return
    try:
        message = _receipt_message(issue_receipt(donation_id))
        message.send()
    except Exception as exc:
        Donation.objects.filter(pk=donation_id).update(receipt_claimed_until=None)
        # Re-raised without the original message (it can name the address), so the task is
        # retried and nothing personal reaches the logs.
        raise ReceiptNotSent(type(exc).__name__, mail_server_down=isinstance(exc, _SERVER_DOWN)) from None
    Donation.objects.filter(pk=donation_id).update(receipt_sent_at=timezone.now(), receipt_claimed_until=None)


def _receipt_message(donation: Donation) -> EmailMessage:
    language = donation.language
    with translation.override(language):
        amount = format_money(Money(donation.amount, donation.currency), language)
        subject = _("Your donation to %(foundation)s") % {"foundation": settings.ZBOR_FOUNDATION_NAME}
        body = _(
            "Thank you. We received your donation of %(amount)s on %(date)s.\n\n"
            "Receipt number: %(number)s\n\n%(foundation)s\n"
        ) % {
            "amount": amount,
            "date": long_date(_arrived_on(donation), language),
            "number": receipt_number(donation),
            "foundation": foundation_details(language)["name"],
        }
        body = _monthly_note(donation) + body
        if donation.monthly_gift_id:
            body += "\n" + manage_note(language) + "\n"
        message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [donation.email])
        try:
            message.attach(f"receipt-{receipt_number(donation)}.pdf", receipt_pdf(donation), "application/pdf")
        except OSError:
            # No Pango on this machine: the email still confirms the donation.
            log.warning("receipt PDF could not be made (is Pango installed?)")
    return message


def _monthly_note(donation: Donation) -> str:
    """A month of a monthly gift says so, and says when it went elsewhere than the campaign
    chosen (it closed): to the fund the foundation named for it, as the form told the donor.
    Neither is named, like in the rest of the receipt."""
    gift = donation.monthly_gift
    if gift is None:
        return ""
    note = _("This is one month's payment of your monthly gift.") + "\n"
    if donation.campaign_id != gift.campaign_id:
        note += (
            _(
                "The campaign you chose has closed, so this month went to the foundation's fund named for it, "
                "as the donate form said."
            )
            + "\n"
        )
    return note + "\n"


@dataclass(frozen=True)
class SweepResult:
    sent: int
    failed: int
    #: True when the sweep stopped because the mail server cannot be reached.
    stopped: bool


#: Receipts one sweep sends at most (the next sweep sends more).
SWEEP_BATCH = 200


def send_unsent_receipts(*, batch: int = SWEEP_BATCH) -> SweepResult:
    """Send the receipts the queue never sent: its broker was down when the donation committed,
    every retry failed, or a worker died holding the claim. Each is claimed like the queued
    task's, so a receipt the task is sending at the same moment is not sent twice. Stops at the
    first failure saying the mail server cannot be reached (the next sweep tries again); a
    message refused for its address does not hold up the others."""
    sent = failed = 0
    for donation_id in list(_due(timezone.now()).order_by("succeeded_at").values_list("pk", flat=True)[:batch]):
        try:
            send_receipt(donation_id)
        except ReceiptNotSent as error:
            failed += 1
            if error.mail_server_down:
                log.warning(
                    "receipt sweep stopped: the mail server cannot be reached (%s); the next sweep tries again", error
                )
                return SweepResult(sent, failed, stopped=True)
        else:
            sent += 1
    return SweepResult(sent, failed, stopped=False)


def forget_receipt_emails() -> int:
    """Delete receipt emails ZBOR_RECEIPT_EMAIL_DAYS after the receipt was sent."""
    cutoff = timezone.now() - timedelta(days=settings.ZBOR_RECEIPT_EMAIL_DAYS)
    return Donation.objects.filter(receipt_sent_at__lte=cutoff).exclude(email="").update(email="")
