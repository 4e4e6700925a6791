"""Finance screens: donations, words of support, bank statements and the unmatched queue."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _

from zbor.accounts.admin import stream_csv
from zbor.accounts.services import AuditedAdminMixin, audit
from zbor.admin_base import ReadOnlyAdmin, ZborModelAdmin
from zbor.money import Money, format_money
from zbor.payments import registry
from zbor.payments.bank import MAX_STATEMENT_BYTES, StatementError
from zbor.payments.bank_csv import parse_bank_csv
from zbor.payments.csv_detect import LAYOUT_FIELDS, detect_layout
from zbor.payments.models import StatementLayout

from . import services
from .bank_import import import_statement
from .exceptions import DonationError
from .exports import EXPORTS
from .models import BankStatement, BankStatementLine, Donation, LineStatus, MessageStatus, WordsOfSupport
from .queue_admin import RESOLVE_FIELDS, QueueActions, ResolveLineForm, WaitingFilter
from .refund_admin import RefundAdmin
from .review_admin import money, warning


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
    actions = None
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

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Donation._meta.fields if f.name not in self.exclude]

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


DETECT = "detect"


class StatementUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Statement file"),
        help_text=_(
            "ISO 20022 camt.053 (XML) or CSV with the columns date, amount, currency, reference, transaction_id."
        ),
    )
    layout = forms.ChoiceField(
        label=_("CSV layout"),
        required=False,
        help_text=_(
            "For a bank's own CSV, the layout saved for that bank. For a new bank, choose to detect it: "
            "nothing is imported then, and the layout found is shown to check and save."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        layouts = [(str(layout.pk), layout.name) for layout in StatementLayout.objects.order_by("name")]
        cast(forms.ChoiceField, self.fields["layout"]).choices = [
            ("", _("camt.053, or Zbor's own CSV")),
            *layouts,
            (DETECT, _("Detect the layout of a new bank's CSV")),
        ]

    def clean_layout(self) -> StatementLayout | str | None:
        value = self.cleaned_data.get("layout")
        if not value or value == DETECT:
            return value or None
        return StatementLayout.objects.get(pk=value)


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
        if request.method == "POST" and form.is_valid() and form.cleaned_data["layout"] == DETECT:
            return self._detect(request, form)
        if request.method == "POST" and form.is_valid():
            try:
                report = import_statement(
                    form.cleaned_data["file"], by=request.user, layout=form.cleaned_data["layout"]
                )
            except StatementError as exc:
                form.add_error("file", _("Nothing was imported: %(error)s") % {"error": exc})
            else:
                if report.new == 0:
                    messages.info(request, _("Every line of this statement was imported before. Nothing changed."))
                else:
                    messages.success(
                        request,
                        _(
                            "%(new)s new line(s): %(matched)s matched to donations, %(review)s with an amount that differs "
                            "(finance decides), %(unmatched)s waiting to be assigned, %(outgoing)s outgoing."
                        )
                        % {
                            "new": report.new,
                            "matched": report.matched,
                            "review": report.review,
                            "unmatched": report.unmatched,
                            "outgoing": report.outgoing,
                        },
                    )
                # Every line waiting for a person: unmatched credits, reversals, amounts that differ.
                return redirect(reverse("admin:donations_bankstatementline_changelist") + "?queue=waiting")
        return self._form_page(request, form)

    def _form_page(self, request, form: StatementUploadForm):
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

    def _detect(self, request, form: StatementUploadForm):
        """Propose a layout for a new bank's CSV, imports nothing: the layout's add form opens
        filled in with it, for finance to check, name and save before importing with it."""
        if not request.user.has_perm("payments.add_statementlayout"):
            raise PermissionDenied
        data = form.cleaned_data["file"].read(MAX_STATEMENT_BYTES + 1)
        try:
            proposed = detect_layout(data)
        except StatementError as exc:
            form.add_error("file", str(exc))
            return self._form_page(request, form)
        try:
            lines = parse_bank_csv(data, proposed)
        except StatementError as exc:
            messages.warning(
                request, _("Check the layout below: with it, the file does not read yet: %(error)s") % {"error": exc}
            )
        else:
            messages.info(
                request,
                _(
                    "Layout detected: it reads %(count)s line(s) of the file. Check it, name it and save it, then import the file with it."
                )
                % {"count": len(lines)},
            )
        initial = {field: getattr(proposed, field) for field in LAYOUT_FIELDS}
        return redirect(reverse("admin:payments_statementlayout_add") + "?" + urlencode(initial))


@admin.register(BankStatementLine)
class BankStatementLineAdmin(QueueActions, AuditedAdminMixin, ZborModelAdmin):
    """The unmatched queue (attach a line to its pledge, assign it to a campaign and need, or
    mark it not a donation, returned, a reversal handled: ``queue_admin``) and the review queue
    of lines whose amount differs from their pledge (accept as received, or return)."""

    form = ResolveLineForm
    list_display = ["booked_on", "amount_column", "pledged_column", "text", "status", "warning_column", "donation"]
    list_filter = [WaitingFilter, "status", "booked_on"]
    list_select_related = ["donation"]
    readonly_fields = [
        "booked_on",
        "amount_column",
        "pledged_column",
        "warning_column",
        "text",
        "status",
        "reason",
        "donation",
        "statement",
    ]
    fields = [*readonly_fields, "attach_to_pledge", "assign_to", "need"]

    @admin.display(description=_("amount"), ordering="amount")
    def amount_column(self, obj):
        return _money(obj.amount, obj.currency)

    @admin.display(description=_("pledged amount"), ordering="pledged")
    def pledged_column(self, obj):
        # Shown while the line names its pledge (waiting, or accepted): in the pledge's currency.
        return money(obj.pledged, obj.donation.currency if obj.donation else "")

    @admin.display(description=_("warning"))
    def warning_column(self, obj):
        if obj.status != LineStatus.REVIEW or obj.donation is None:
            return ""
        return warning(obj.amount, obj.currency, obj.donation.currency)

    def decision_row(self, obj) -> dict[str, str]:
        return {
            "name": f"{obj.booked_on} · {obj.text}",
            "received": self.amount_column(obj),
            "pledged": self.pledged_column(obj),
            "warning": self.warning_column(obj),
        }

    def accept(self, obj, *, by) -> None:
        services.accept_line(obj, by=by)

    def send_back(self, obj, *, reason: str, by) -> None:
        services.return_line(obj, reason=reason, by=by)

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        if obj is None or obj.status != LineStatus.UNMATCHED:
            return [f for f in self.fields if f not in RESOLVE_FIELDS]
        return self.fields

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if data.get("attach_to_pledge"):
                donation = services.attach_line(obj, reference=data["attach_to_pledge"], by=request.user)
            elif data.get("assign_to"):
                donation = services.assign_line(
                    obj, campaign=data["assign_to"], need=data.get("need"), by=request.user
                )
            else:
                return
        except PermissionDenied:
            messages.error(request, _("Your role may not do this."))
        except DonationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, _("The line is now a donation to %(campaign)s.") % {"campaign": donation.campaign}
            )


__all__ = ["RefundAdmin"]  # registered in refund_admin, imported here so the admin finds it
