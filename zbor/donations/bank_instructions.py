"""What a bank-transfer donor needs to finish the transfer later: the account, the amount, the
payment reference and, for euro, the EPC QR code a banking app reads; and the email carrying
the same details to a donor who gave an address with the pledge.

Like the receipt (zbor/donations/receipts.py), the email is neutral: the foundation's name, the
account, an amount and the reference. No campaign, no beneficiary, no donor name: a mail found
in a seized mailbox, or a transfer text on a bank statement, says as little as possible. It is
plain text, with no QR image: it is mostly read on the phone whose banking app would have to
scan it, and the text can be copied from it.

The address is kept no longer than before: the daily clean-up forgets it when the pledge
expires unpaid (``purge_expired_emails``), or after the receipt once the money arrived.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from babel.numbers import get_decimal_symbol
from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from zbor.money import Money, format_money, minor_digits
from zbor.payments.bank import format_reference
from zbor.payments.epc import epc_payload

from .models import Donation, DonationStatus, MonthlyGift

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TransferDetails:
    name: str
    iban: str
    bic: str
    amount: str
    #: The amount as a banking app's amount field takes it: digits and the language's decimal
    #: sign, no currency or grouping ("12,50").
    amount_plain: str
    reference: str
    #: The EPC QR code's payload; "" when there is none (not euro).
    epc: str


def group_iban(iban: str) -> str:
    """The IBAN in groups of four, as printed on cards and statements."""
    compact = "".join(iban.split()).upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def plain_amount(amount: int, currency: str, language: str) -> str:
    digits = minor_digits(currency)
    major, minor = divmod(amount, 10**digits)
    return f"{major}{get_decimal_symbol(language)}{minor:0{digits}d}" if digits else str(major)


def transfer_details(donation: Donation, language: str) -> TransferDetails:
    return bank_details(donation.amount, donation.currency, donation.checkout_reference, language)


def standing_order_details(gift: MonthlyGift, language: str) -> TransferDetails:
    """A monthly bank gift's standing order: the same details, with its permanent reference."""
    return bank_details(gift.amount, gift.currency, gift.reference, language)


def bank_details(amount: int, currency: str, raw_reference: str, language: str) -> TransferDetails:
    reference = format_reference(raw_reference)
    return TransferDetails(
        name=settings.ZBOR_BANK_ACCOUNT_NAME,
        iban=group_iban(settings.ZBOR_BANK_IBAN),
        bic=settings.ZBOR_BANK_BIC,
        amount=format_money(Money(amount, currency), language),
        amount_plain=plain_amount(amount, currency, language),
        reference=reference,
        epc=epc_payload(
            name=settings.ZBOR_BANK_ACCOUNT_NAME,
            iban=settings.ZBOR_BANK_IBAN,
            bic=settings.ZBOR_BANK_BIC,
            amount=amount,
            currency=currency,
            remittance=reference,
        ),
    )


class InstructionsNotSent(Exception):
    """The mail server did not take the email; the task queue tries again."""


def _unsent():
    return Donation.objects.filter(
        provider="bank", status=DonationStatus.PENDING, instructions_sent_at__isnull=True
    ).exclude(email="")


def send_instructions(donation_id: int) -> None:
    """Email the transfer details of a pending bank pledge that has an email, once.

    Marked as sent in one UPDATE before sending, so of two senders (the task and its retry)
    only one sends; a mail failure takes the mark back and raises, so the queue retries."""
    if not _unsent().filter(pk=donation_id).update(instructions_sent_at=timezone.now()):
        return
    try:
        instructions_message(Donation.objects.get(pk=donation_id)).send()
    except Exception:
        Donation.objects.filter(pk=donation_id).update(instructions_sent_at=None)
        # Without the original message: it can name the address.
        raise InstructionsNotSent("the transfer details could not be emailed") from None


#: A sweep sends the details of pledges at most this old that the queue never sent (its broker
#: was down, or every retry failed); later, the donor has likely moved on.
SWEEP_AGE = timedelta(days=1)


def send_unsent_instructions(*, batch: int = 200) -> int:
    """Send the transfer details the queue never sent; each is marked like the task's, so none
    goes out twice. Stops at the first failure (the next sweep tries again)."""
    sent = 0
    since = timezone.now() - SWEEP_AGE
    for donation_id in list(_unsent().filter(created_at__gte=since).values_list("pk", flat=True)[:batch]):
        try:
            send_instructions(donation_id)
        except InstructionsNotSent:
            log.warning("transfer-details sweep stopped: an email was not taken; the next sweep tries again")
            break
        sent += 1
    return sent


def instructions_message(donation: Donation) -> EmailMessage:
    language = donation.language
    with translation.override(language):
        details = transfer_details(donation, language)
        subject = _("Your bank transfer to %(foundation)s") % {"foundation": settings.ZBOR_FOUNDATION_NAME}
        lines = [
            _("Thank you. To finish your donation, please make this bank transfer:"),
            "",
            f"{_('Account holder')}: {details.name}",
            f"{_('IBAN')}: {details.iban}",
        ]
        if details.bic:
            lines.append(f"{_('BIC')}: {details.bic}")
        lines += [
            f"{_('Amount')}: {details.amount}",
            f"{_('Payment reference')}: {details.reference}",
            "",
            _(
                "Write the payment reference in the transfer's description, and nothing else: without it "
                "we cannot match your gift."
            ),
            "",
            settings.ZBOR_FOUNDATION_NAME,
            "",
        ]
        return EmailMessage(subject, "\n".join(lines), settings.DEFAULT_FROM_EMAIL, [donation.email])
