"""Credit notes (credit_notes.py): finance reads them, downloads their PDF and sends them again
while the donor's email is held. They are issued by the refund's booking, never by hand."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from zbor.accounts.services import audit
from zbor.admin_base import ReadOnlyAdmin

from . import services
from .credit_notes import credit_note_pdf
from .exceptions import DonationError
from .models import CreditNote
from .review_admin import money

VIEW = "donations.view_creditnote"


def pdf_link(note: CreditNote) -> str:
    return format_html(
        '<a href="{}">{}</a>', reverse("admin:donations_creditnote_pdf", args=[note.pk]), _("Download the PDF")
    )


def resend_all(request, notes) -> None:
    """Send each credit note again (audited one by one); say how many, and why any could not."""
    sent = 0
    for note in notes:
        try:
            services.resend_credit_note(note, by=request.user)
        except DonationError as exc:
            messages.warning(request, str(exc))
        else:
            sent += 1
    if sent:
        messages.success(
            request,
            ngettext("%(count)d credit note will be sent again.", "%(count)d credit notes will be sent again.", sent)
            % {"count": sent},
        )


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdmin):
    list_display = ["number", "donation_column", "amount_column", "remaining_column", "issued_at", "sent_at"]
    list_filter = ["issued_at"]
    search_fields = ["number", "donation__receipt_number"]
    list_select_related = ["donation"]
    fields = readonly_fields = (
        "number",
        "donation_column",
        "receipt_column",
        "amount_column",
        "remaining_column",
        "issued_at",
        "sent_at",
        "pdf",
    )
    actions = ["resend"]

    @admin.display(description=_("donation"))
    def donation_column(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:donations_donation_change", args=[obj.donation_id]),
            str(obj.donation.public_id)[:8],
        )

    @admin.display(description=_("receipt number"))
    def receipt_column(self, obj):
        return obj.donation.receipt_number or "-"

    @admin.display(description=_("amount credited"), ordering="amount")
    def amount_column(self, obj):
        return money(obj.amount, obj.donation.currency)

    @admin.display(description=_("remaining of the gift"))
    def remaining_column(self, obj):
        return money(obj.remaining, obj.donation.currency)

    @admin.display(description=_("PDF"))
    def pdf(self, obj):
        return pdf_link(obj)

    def has_resend_permission(self, request):
        return request.user.has_perm("donations.resend_receipt")

    @admin.action(description=_("Send the credit note again"), permissions=["resend"])
    def resend(self, request, queryset):
        resend_all(request, queryset.select_related("donation").order_by("pk"))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("<int:pk>/pdf/", view(self.pdf_view), name="donations_creditnote_pdf")] + super().get_urls()

    def pdf_view(self, request, pk: int):
        self.require(request, VIEW)
        note = get_object_or_404(CreditNote.objects.select_related("donation"), pk=pk)
        audit(request.user, "donation.credit_note.download", note)
        response = HttpResponse(credit_note_pdf(note), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="credit-note-{note.number}.pdf"'
        return response
