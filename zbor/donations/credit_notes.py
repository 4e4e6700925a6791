"""Credit notes: the correction of a donor's receipt after a refund, as an accountant expects.

A refund booked of a gift that has a receipt (``reversals.take_back``, whichever path booked it:
staff's four-eyes refund, the provider's refund event) issues one credit note in the same
transaction: "CN-2026-000001", an unbroken sequence per year of its own (``CreditNoteCounter``),
numbered like receipts, so a refund rolled back takes no number and a refund replayed (its
ledger group exists) issues nothing. A second partial refund gets a second credit note.

It names the receipt it corrects (number and date), the amount credited, what the receipt still
covers (the gift less every refund), the day of the refund and the foundation's legal details,
and is as neutral as the receipt: no campaign, no beneficiary, no donor name. It is emailed
with the same care as the receipt (claimed before sending, retried by the queue and the sweep)
while the donor's email is still held; otherwise staff download it from the back office.

A dispute is not a refund the foundation gives (the card network holds the money back, and
may return it): it issues no credit note; the donations export shows it as disputed.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from zbor.ledger.models import TransferKind
from zbor.money import Money, format_money
from zbor.tasks import enqueue_on_commit

from .models import CreditNote, CreditNoteCounter, Donation
from .receipts import (
    _SERVER_DOWN,
    CLAIM,
    SWEEP_BATCH,
    ReceiptNotSent,
    SweepResult,
    foundation_details,
    issue_receipt,
    log,
)


def note_reversal(donation_id: int, *, kind: str, amount: int, key: str) -> CreditNote | None:
    """Issue the credit note of a refund just booked (``key``: its ledger group), in the
    booking's transaction; None for a dispute, or a gift whose donor had no receipt.

    A receipt that is due (the donor gave an email) but not numbered yet is numbered now, so
    that the credit note can name it; it is then sent as usual, before the credit note.
    Locks the donation, then the receipt counter, then the credit note counter: the same order
    as ``issue_receipt``, so two bookings never wait on each other in a circle."""
    if kind != TransferKind.REFUND:
        return None
    with transaction.atomic():
        donation = Donation.objects.select_for_update().get(pk=donation_id)
        if not donation.receipt_number and donation.email:
            donation = issue_receipt(donation_id)
        if not donation.receipt_number or CreditNote.objects.filter(key=key).exists():
            return None
        now = timezone.now()
        year = timezone.localdate(now).year
        CreditNoteCounter.objects.get_or_create(year=year)
        counter = CreditNoteCounter.objects.select_for_update().get(year=year)
        counter.last += 1
        counter.save(update_fields=["last"])
        note = CreditNote.objects.create(
            donation=donation,
            number=f"CN-{year}-{counter.last:06d}",
            key=key,
            amount=amount,
            remaining=donation.amount - donation.refunded,
            issued_at=now,
        )
        if donation.email:
            from .tasks import send_credit_note

            enqueue_on_commit(send_credit_note, note.pk)
    return note


def _issued_on(moment) -> date:
    return timezone.localdate(moment)


def credit_note_pdf(note: CreditNote) -> bytes:
    """The credit note as PDF, in the donor's language (the receipt's)."""
    from babel.dates import format_date
    from weasyprint import HTML  # needs Pango from the system, as receipts do

    donation = note.donation
    language = donation.language
    receipt_issued = donation.receipt_issued_at or donation.succeeded_at
    with translation.override(language):
        html = render_to_string(
            "donations/credit_note.html",
            {
                "language": language,
                "foundation": foundation_details(language),
                "number": note.number,
                "issued": format_date(_issued_on(note.issued_at), format="long", locale=language),
                "receipt": donation.receipt_number,
                "receipt_issued": format_date(_issued_on(receipt_issued), format="long", locale=language)
                if receipt_issued
                else "",
                "received": format_money(Money(donation.amount, donation.currency), language),
                "credited": format_money(Money(note.amount, donation.currency), language),
                "remaining": format_money(Money(note.remaining, donation.currency), language),
            },
        )
    return HTML(string=html).write_pdf()


def _due(now):
    """Credit notes to email: not sent, the donor's email still held, their receipt sent
    first, and not held by a sender."""
    return (
        CreditNote.objects.filter(sent_at__isnull=True, donation__receipt_sent_at__isnull=False)
        .exclude(donation__email="")
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
    )


def _claim(note_id: int) -> bool:
    now = timezone.now()
    return _due(now).filter(pk=note_id).update(claimed_until=now + CLAIM) == 1


def send_credit_note(note_id: int) -> None:
    """Email the credit note with its PDF, at most once; safe to run twice and from several
    workers at once (claimed first, like a receipt). On a mail failure the claim is given back
    and ReceiptNotSent raised, so that the queue retries, or the sweep."""
    if not _claim(note_id):
        return
    try:
        message = _message(CreditNote.objects.select_related("donation").get(pk=note_id))
        message.send()
    except Exception as exc:
        CreditNote.objects.filter(pk=note_id).update(claimed_until=None)
        # Without the original message, which can name the address.
        raise ReceiptNotSent(type(exc).__name__, mail_server_down=isinstance(exc, _SERVER_DOWN)) from None
    CreditNote.objects.filter(pk=note_id).update(sent_at=timezone.now(), claimed_until=None)


def _message(note: CreditNote) -> EmailMessage:
    """Neutral like the receipt's: the subject names only the foundation, the body the amounts,
    the day and the numbers, never the campaign."""
    donation = note.donation
    language = donation.language
    with translation.override(language):
        subject = _("A correction to your receipt from %(foundation)s") % {"foundation": settings.ZBOR_FOUNDATION_NAME}
        body = _(
            "We returned %(amount)s of your donation on %(date)s. The attached credit note corrects your "
            "receipt %(receipt)s.\n\nCredit note: %(number)s\n\n%(foundation)s\n"
        ) % {
            "amount": format_money(Money(note.amount, donation.currency), language),
            "date": _issued_on(note.issued_at).isoformat(),
            "receipt": donation.receipt_number,
            "number": note.number,
            "foundation": foundation_details(language)["name"],
        }
        message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [donation.email])
        try:
            message.attach(f"credit-note-{note.number}.pdf", credit_note_pdf(note), "application/pdf")
        except OSError:
            log.warning("credit note PDF could not be made (is Pango installed?)")
    return message


def send_unsent_credit_notes(*, batch: int = SWEEP_BATCH) -> SweepResult:
    """Send the credit notes the queue never sent (as ``receipts.send_unsent_receipts``): stops
    at the first failure saying the mail server cannot be reached."""
    sent = failed = 0
    for note_id in list(_due(timezone.now()).order_by("issued_at", "pk").values_list("pk", flat=True)[:batch]):
        try:
            send_credit_note(note_id)
        except ReceiptNotSent as error:
            failed += 1
            if error.mail_server_down:
                log.warning("credit note sweep stopped: the mail server cannot be reached (%s)", error)
                return SweepResult(sent, failed, stopped=True)
        else:
            sent += 1
    return SweepResult(sent, failed, stopped=False)
