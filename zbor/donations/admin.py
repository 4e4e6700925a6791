"""Finance screens: donations and words of support; bank statements (statement_admin.py),
refunds (refund_admin.py), credit notes (credit_note_admin.py) and monthly gifts (monthly_admin.py) are registered from their own
modules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _

from zbor.accounts.admin import stream_csv
from zbor.accounts.services import audit
from zbor.admin_base import ReadOnlyAdmin
from zbor.money import Money, format_money
from zbor.payments import registry

from . import services
from .credit_note_admin import CreditNoteAdmin, pdf_link, resend_all
from .exceptions import DonationError
from .exports import EXPORTS
from .models import CreditNote, Donation, MessageStatus, WordsOfSupport
from .monthly_admin import MonthlyGiftAdmin
from .refund_admin import RefundAdmin
from .statement_admin import BankStatementAdmin, BankStatementLineAdmin


def _money(amount: int, currency: str) -> str:
    return format_money(Money(amount, currency), get_language() or "en")


@admin.register(Donation)
class DonationAdmin(ReadOnlyAdmin):
    list_display = [
        "short_id",
        "campaign",
        "amount_column",
        "status",
        "provider",
        "refunded_column",
        "message_status",
        "created_at",
    ]
    list_filter = ["status", "provider", "message_status", "created_at"]
    search_fields = ["public_id", "checkout_reference", "payment_reference", "charge_reference"]
    list_select_related = ["campaign"]
    actions = ["resend_receipts", "resend_credit_notes"]
    # Finance reconciles money: the donor's email, chosen name and words, the checkout link and
    # the idempotency key are not part of that work (words of support have their own screen).
    exclude = ["email", "idempotency_key", "public_name", "message", "checkout_url"]
    change_list_template = "admin/donations/donation/change_list.html"

    @admin.display(description=_("donation"))
    def short_id(self, obj):
        return str(obj.public_id)[:8]

    @admin.display(description=_("amount"), ordering="amount")
    def amount_column(self, obj):
        return _money(obj.amount, obj.currency)

    @admin.display(description=_("refunded"), ordering="refunded")
    def refunded_column(self, obj):
        return _money(obj.refunded, obj.currency) if obj.refunded else "-"

    @admin.display(description=_("provider fee"))
    def fee_column(self, obj):
        return _money(obj.fee, obj.currency)

    @admin.display(description=_("disputed"))
    def disputed_column(self, obj):
        return _money(obj.disputed, obj.currency)

    #: The stored minor units, shown in major units with the currency ("€12.50", never 1250).
    MONEY_FIELDS = {
        "amount": "amount_column",
        "refunded": "refunded_column",
        "fee": "fee_column",
        "disputed": "disputed_column",
    }

    @admin.display(description=_("credit notes"))
    def credit_notes_column(self, obj):
        notes = CreditNote.objects.filter(donation=obj).order_by("pk")
        if not notes:
            return "-"
        return format_html_join(
            mark_safe("<br>"),  # noqa: S308 (a constant)
            '<a href="{}">{}</a> ({}) {}',
            (
                (
                    reverse("admin:donations_creditnote_change", args=[n.pk]),
                    n.number,
                    _money(n.amount, obj.currency),
                    pdf_link(n),
                )
                for n in notes
            ),
        )

    def get_readonly_fields(self, request, obj=None):
        fields = [self.MONEY_FIELDS.get(f.name, f.name) for f in Donation._meta.fields if f.name not in self.exclude]
        return fields + ["credit_notes_column"]

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj)

    def has_resend_permission(self, request):
        return request.user.has_perm("donations.resend_receipt")

    @admin.action(description=_("Send the receipt again"), permissions=["resend"])
    def resend_receipts(self, request, queryset):
        """Each selected donor's receipt again, while their email is held (audited, one by one)."""
        sent = 0
        for donation in queryset.order_by("pk"):
            try:
                services.resend_receipt(donation, by=request.user)
            except DonationError as exc:
                messages.warning(request, str(exc))
            else:
                sent += 1
        if sent:
            self.message_user(
                request,
                ngettext("%(count)d receipt will be sent again.", "%(count)d receipts will be sent again.", sent)
                % {"count": sent},
            )

    @admin.action(description=_("Send the credit notes again"), permissions=["resend"])
    def resend_credit_notes(self, request, queryset):
        """Each credit note of the selected donations again, while the donor's email is held."""
        resend_all(request, CreditNote.objects.filter(donation__in=queryset).select_related("donation").order_by("pk"))

    def get_urls(self):
        return [
            path("export/", self.admin_site.admin_view(self.export_view), name="donations_export")
        ] + super().get_urls()

    def export_view(self, request):
        """CSV for the accountant: ?kind=<a key of EXPORTS>&start=YYYY-MM-DD&end=YYYY-MM-DD."""
        if not any(request.user.has_perm(permission) for permission, _rows in EXPORTS.values()):
            raise PermissionDenied
        form = ExportForm(request.GET or None)
        if request.GET and form.is_valid():
            permission, rows = EXPORTS[form.cleaned_data["kind"]]
            if not request.user.has_perm(permission):
                raise PermissionDenied
            start, end = form.cleaned_data.get("start"), form.cleaned_data.get("end")
            audit(request.user, f"export.{form.cleaned_data['kind']}", fields=["from", "to"])
            header, body = rows(start, end)
            return stream_csv(f"zbor-{form.cleaned_data['kind']}.csv", header, body)
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": _("Exports for the accountant"),
            "opts": self.model._meta,
            "method": "get",
            "note": _("No donor's email, name or message is exported."),
            "submit": _("Download CSV"),
        }
        return render(request, "admin/zbor_form.html", context)

    def changelist_view(self, request, extra_context=None):
        providers = [registry.label(name) for name in registry.enabled()]
        return super().changelist_view(request, {**(extra_context or {}), "live_providers": providers})


@admin.register(WordsOfSupport)
class WordsOfSupportAdmin(ReadOnlyAdmin):
    """Editors moderate words of support here: the campaign, the public name and the message.
    Nothing of the money, the times, the email or the provider's ids (those are finance's)."""

    list_display = ["message_column", "public_name", "campaign", "message_status"]
    list_filter = ["message_status"]
    list_select_related = ["campaign"]
    fields = ("campaign", "public_name", "message", "message_status")
    readonly_fields = fields
    actions = ["approve_messages", "reject_messages"]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(message="").exclude(message_status=MessageStatus.NONE)

    @admin.display(description=_("message of support"))
    def message_column(self, obj):
        return obj.message[:80] + ("…" if len(obj.message) > 80 else "")

    def _moderate(self, request, queryset, approve: bool):
        count = 0
        for donation in queryset:
            services.moderate_message(donation, approve=approve, by=request.user)
            count += 1
        self.message_user(
            request,
            ngettext("%(count)d message moderated.", "%(count)d messages moderated.", count) % {"count": count},
        )

    def has_moderate_permission(self, request):
        return request.user.has_perm("donations.moderate_messages")

    @admin.action(description=_("Approve the words of support"), permissions=["moderate"])
    def approve_messages(self, request, queryset):
        self._moderate(request, queryset, True)

    @admin.action(description=_("Reject the words of support"), permissions=["moderate"])
    def reject_messages(self, request, queryset):
        self._moderate(request, queryset, False)


class ExportForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What"),
        choices=[
            ("donations", _("Donations")),
            ("credit_notes", _("Credit notes")),
            ("monthly_gifts", _("Monthly gifts")),
            ("ledger", _("Ledger transfers")),
            ("payouts", _("Payouts")),
        ],
    )
    start = forms.DateField(label=_("From"), required=False, help_text="YYYY-MM-DD")
    end = forms.DateField(label=_("To"), required=False, help_text="YYYY-MM-DD")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("start") and cleaned.get("end") and cleaned["start"] > cleaned["end"]:
            raise forms.ValidationError(_("The first day comes after the last."))
        return cleaned


# Registered in their own modules, imported here so that the admin finds them.
__all__ = ["BankStatementAdmin", "BankStatementLineAdmin", "CreditNoteAdmin", "MonthlyGiftAdmin", "RefundAdmin"]
