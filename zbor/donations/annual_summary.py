"""A monthly supporter's annual summary, on request: each payment of their gift whose money
arrived in one year (the day, the receipt number, the amount) and the total, drawn on the
receipt's page template (``donations/_document.html``) in the donor's language, and as neutral
as the receipt: the foundation's legal details, no campaign, no name.

    A €10 gift paid on 5 January and 5 February 2026 (receipts 2026-000001 and 2026-000007):
    the 2026 summary lists both and "Total €20"; a payment of €10 of which €4 went back shows
    "Returned €4" beside it and "Total after returns".

Finance downloads it from the gift's page, or has it emailed to the gift's address while the
gift still holds one (it is forgotten once the gift stops, after the receipt period): both
audited. Nothing is numbered or kept: it is drawn from the payments each time. Days are the
ones the donations export and the receipts give (the bank's booking day for a transfer).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from zbor.accounts.services import audit, require
from zbor.money import Money, format_money
from zbor.tasks import enqueue_on_commit

from .exceptions import ReceiptNotResent
from .exports import arrived_donations
from .models import MonthlyGift
from .receipts import ReceiptNotSent, foundation_details, long_date

if TYPE_CHECKING:
    from django.contrib.auth.models import User

#: Who may send a summary to the donor: those who may send a receipt again.
EMAIL = "donations.resend_receipt"


@dataclass(frozen=True)
class YearPayment:
    day: date
    amount: int
    refunded: int
    currency: str
    receipt: str


def year_payments(gift: MonthlyGift, year: int) -> list[YearPayment]:
    """The gift's payments whose money arrived in ``year``, in the order it arrived."""
    rows = (
        arrived_donations(date(year, 1, 1), date(year, 12, 31))
        .filter(monthly_gift=gift)
        .order_by("arrived_on", "succeeded_at", "pk")
        .values_list("arrived_on", "amount", "refunded", "currency", "receipt_number")
    )
    return [
        YearPayment(day, amount, refunded, currency, receipt or "")
        for day, amount, refunded, currency, receipt in rows
    ]


def payment_years(gift: MonthlyGift) -> list[int]:
    """The years in which money of the gift arrived, the latest first."""
    days = arrived_donations(None, None).filter(monthly_gift=gift).values_list("arrived_on", flat=True)
    return sorted({day.year for day in days}, reverse=True)


def annual_summary_html(gift: MonthlyGift, year: int) -> str:
    """The summary as the HTML the PDF is drawn from, in the donor's language."""
    language = gift.language
    payments = year_payments(gift, year)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for payment in payments:
        totals[payment.currency][0] += payment.amount
        totals[payment.currency][1] += payment.refunded

    def money(amount: int, currency: str) -> str:
        return format_money(Money(amount, currency), language)

    with translation.override(language):
        return render_to_string(
            "donations/annual_summary.html",
            {
                "language": language,
                "foundation": foundation_details(language),
                "year": year,
                "issued": long_date(timezone.localdate(), language),
                "payments": [
                    {
                        "date": long_date(p.day, language),
                        "receipt": p.receipt,
                        "amount": money(p.amount, p.currency),
                        "returned": money(p.refunded, p.currency) if p.refunded else "",
                    }
                    for p in payments
                ],
                "returned": any(p.refunded for p in payments),
                "totals": [
                    {
                        "received": money(received, currency),
                        "returned": money(returned, currency),
                        "kept": money(received - returned, currency),
                    }
                    for currency, (received, returned) in sorted(totals.items())
                ],
            },
        )


def annual_summary_pdf(gift: MonthlyGift, year: int) -> bytes:
    from weasyprint import HTML  # needs Pango from the system, as receipts do

    return HTML(string=annual_summary_html(gift, year)).write_pdf()


def filename(year: int) -> str:
    return f"summary-{year}.pdf"


def email_annual_summary(gift: MonthlyGift, *, year: int, by: User | None) -> None:
    """Email the gift's summary of ``year`` to its address (queued; audited). Refused when the
    gift no longer holds an address, by design, or no money of it arrived that year."""
    require(by, EMAIL, _("Your role may not send receipts."))
    if not MonthlyGift.objects.filter(pk=gift.pk).exclude(email="").exists():
        raise ReceiptNotResent(
            _(
                "Monthly gift %(gift)s no longer holds the donor's email, by design: download the summary "
                "and give it to the donor another way, if they ask."
            )
            % {"gift": gift}
        )
    if not year_payments(gift, year):
        raise ReceiptNotResent(
            _("No payment of monthly gift %(gift)s arrived in %(year)s.") % {"gift": gift, "year": year}
        )
    with transaction.atomic():
        audit(by, "monthly_gift.annual_summary.email", gift, fields=["email", "payments"])
        from .tasks import send_annual_summary

        enqueue_on_commit(send_annual_summary, gift.pk, year)


def send_annual_summary(gift_id: int, year: int) -> None:
    """The queued task's work: the email with the PDF, if the gift still holds an address.

    A failure raises ReceiptNotSent without the server's message (it can name the address),
    and the queue tries again; a retry after a send the server took but did not confirm can
    send it twice, which does no harm to a summary."""
    gift = MonthlyGift.objects.filter(pk=gift_id).exclude(email="").first()
    if gift is None:
        return
    language = gift.language
    with translation.override(language):
        foundation = foundation_details(language)["name"]
        subject = _("Your donations to %(foundation)s in %(year)s") % {
            "foundation": settings.ZBOR_FOUNDATION_NAME,
            "year": year,
        }
        body = _(
            "Attached is the summary of the payments of your monthly gift that we received in %(year)s.\n\n"
            "%(foundation)s\n"
        ) % {"year": year, "foundation": foundation}
    message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [gift.email])
    message.attach(filename(year), annual_summary_pdf(gift, year), "application/pdf")
    try:
        message.send()
    except Exception as exc:
        raise ReceiptNotSent(type(exc).__name__) from None
