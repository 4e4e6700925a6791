"""Finance screens: donations, words of support, bank statements and the unmatched queue."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _

from zbor.accounts.admin import stream_csv
from zbor.accounts.services import AuditedAdminMixin, audit
from zbor.admin_base import ReadOnlyAdmin, ZborModelAdmin
from zbor.campaigns.models import PUBLIC_STATUSES, Campaign
from zbor.money import Money, format_money
from zbor.payments import registry
from zbor.payments.bank import StatementError

from . import services
from .bank_import import assign_line, import_statement
from .exceptions import DonationError
from .exports import EXPORTS
from .models import BankStatement, BankStatementLine, Donation, LineStatus, MessageStatus, WordsOfSupport


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
    actions = ["resend_receipts"]
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

    def get_readonly_fields(self, request, obj=None):
        return [self.MONEY_FIELDS.get(f.name, f.name) for f in Donation._meta.fields if f.name not in self.exclude]

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

    def get_urls(self):
        return [
            path("export/", self.admin_site.admin_view(self.export_view), name="donations_export")
        ] + super().get_urls()

    def export_view(self, request):
        """CSV for the accountant: ?kind=donations|ledger|payouts&from=YYYY-MM-DD&to=YYYY-MM-DD."""
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
        choices=[("donations", _("Donations")), ("ledger", _("Ledger transfers")), ("payouts", _("Payouts"))],
    )
    start = forms.DateField(label=_("From"), required=False, help_text="YYYY-MM-DD")
    end = forms.DateField(label=_("To"), required=False, help_text="YYYY-MM-DD")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("start") and cleaned.get("end") and cleaned["start"] > cleaned["end"]:
            raise forms.ValidationError(_("The first day comes after the last."))
        return cleaned


class StatementUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Statement file"),
        help_text=_(
            "ISO 20022 camt.053 (XML) or CSV with the columns date, amount, currency, reference, transaction_id."
        ),
    )


@admin.register(BankStatement)
class BankStatementAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "uploaded_by", "lines_total", "lines_new", "lines_matched"]
    change_list_template = "admin/donations/bankstatement/change_list.html"

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="donations_bankstatement_import")
        ] + super().get_urls()

    def import_view(self, request):
        if not request.user.has_perm("donations.add_bankstatement"):
            raise PermissionDenied
        form = StatementUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                report = import_statement(form.cleaned_data["file"], by=request.user)
            except StatementError as exc:
                form.add_error("file", _("Nothing was imported: %(error)s") % {"error": exc})
            else:
                if report.new == 0:
                    messages.info(request, _("Every line of this statement was imported before. Nothing changed."))
                else:
                    messages.success(
                        request,
                        _(
                            "%(new)s new line(s): %(matched)s matched to donations, %(unmatched)s waiting to be assigned, %(outgoing)s outgoing."
                        )
                        % {
                            "new": report.new,
                            "matched": report.matched,
                            "unmatched": report.unmatched,
                            "outgoing": report.outgoing,
                        },
                    )
                return redirect(reverse("admin:donations_bankstatementline_changelist") + "?status__exact=unmatched")
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": _("Import a bank statement"),
            "opts": self.model._meta,
            "multipart": True,
            "submit": _("Import"),
            "note": _("Importing the same statement again adds nothing. A malformed file is refused whole."),
        }
        return render(request, "admin/zbor_form.html", context)


class AssignLineForm(forms.ModelForm):
    assign_to = forms.ModelChoiceField(
        label=_("Assign to campaign"),
        queryset=Campaign.objects.filter(status__in=PUBLIC_STATUSES),
        required=False,
        help_text=_("The credit becomes a donation to this campaign. The campaign's currency must match."),
    )

    class Meta:
        model = BankStatementLine
        fields: list[str] = []


@admin.register(BankStatementLine)
class BankStatementLineAdmin(AuditedAdminMixin, ZborModelAdmin):
    form = AssignLineForm
    list_display = ["booked_on", "amount_column", "text", "status", "donation"]
    list_filter = ["status", "booked_on"]
    readonly_fields = ["booked_on", "amount_column", "text", "status", "donation", "statement"]
    fields = ["booked_on", "amount_column", "text", "status", "donation", "statement", "assign_to"]

    @admin.display(description=_("amount"), ordering="amount")
    def amount_column(self, obj):
        return _money(obj.amount, obj.currency)

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        if obj is None or obj.status != LineStatus.UNMATCHED:
            return [f for f in self.fields if f != "assign_to"]
        return self.fields

    def save_model(self, request, obj, form, change):
        campaign = form.cleaned_data.get("assign_to")
        if campaign is None:
            return
        try:
            assign_line(obj, campaign=campaign, by=request.user)
        except DonationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("The line is now a donation to %(campaign)s.") % {"campaign": campaign})
