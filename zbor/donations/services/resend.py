"""Sending a donor's receipt or credit note again, on staff's request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from zbor.accounts.services import audit, require
from zbor.tasks import enqueue_on_commit

from ..exceptions import ReceiptNotResent
from ..models import CreditNote, Donation, DonationStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def resend_receipt(donation: Donation, *, by: User | None) -> None:
    """Send the receipt again, with the number it already has. Finance's job; audited.

    Only while the donor's email is still held: it is forgotten ``ZBOR_RECEIPT_EMAIL_DAYS``
    after the receipt was sent, by design, and then nobody can send it again. The receipt is
    made due again (``receipt_sent_at`` cleared) and queued; the sweep sends it if the queue
    does not, and the email is kept for the retention days from the new sending."""
    require(by, "donations.resend_receipt", "Your role may not send receipts.")
    with transaction.atomic():
        due_again = (
            Donation.objects.filter(pk=donation.pk, status=DonationStatus.SUCCEEDED)
            .exclude(email="")
            .filter(Q(receipt_claimed_until__isnull=True) | Q(receipt_claimed_until__lt=timezone.now()))
            .update(receipt_sent_at=None, receipt_claimed_until=None)
        )
        if not due_again:
            raise ReceiptNotResent(_refusal(donation))
        audit(by, "donation.receipt.resend", donation, fields=["receipt_sent_at"])
        from ..tasks import send_receipt

        enqueue_on_commit(send_receipt, donation.pk)


def _refusal(donation: Donation) -> str:
    status, email = Donation.objects.filter(pk=donation.pk).values_list("status", "email").get()
    if status != DonationStatus.SUCCEEDED:
        return _("Donation %(donation)s has not succeeded, so it has no receipt.") % {"donation": _short(donation)}
    if not email:
        return _(
            "The donor's email for donation %(donation)s was forgotten after the receipt was sent, by design "
            "(or none was given): the receipt cannot be sent again."
        ) % {"donation": _short(donation)}
    return _("The receipt of donation %(donation)s is being sent right now.") % {"donation": _short(donation)}


def _short(donation: Donation) -> str:
    return str(donation.public_id)[:8]


def resend_credit_note(note: CreditNote, *, by: User | None) -> None:
    """Send a credit note again, with its number: as a receipt is, by finance, audited, and only
    while the donor's email is still held (sending it does not keep the email longer)."""
    require(by, "donations.resend_receipt", "Your role may not send receipts.")
    with transaction.atomic():
        due_again = (
            CreditNote.objects.filter(pk=note.pk)
            .exclude(donation__email="")
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=timezone.now()))
            .update(sent_at=None, claimed_until=None)
        )
        if not due_again:
            if not Donation.objects.filter(pk=note.donation_id).exclude(email="").exists():
                raise ReceiptNotResent(
                    _(
                        "The donor's email for credit note %(number)s was forgotten, by design: "
                        "download its PDF from its page instead."
                    )
                    % {"number": note.number}
                )
            raise ReceiptNotResent(_("Credit note %(number)s is being sent right now.") % {"number": note.number})
        audit(by, "donation.credit_note.resend", note, fields=["sent_at"])
        from ..tasks import send_credit_note

        enqueue_on_commit(send_credit_note, note.pk)
