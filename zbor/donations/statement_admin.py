"""Finance's bank statement screens: the import (with a bank's CSV layout or detection) and the
lines, where the unmatched queue and the review queue of differing amounts are decided."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from zbor.accounts.services import AuditedAdminMixin
from zbor.admin_base import ReadOnlyAdmin, ZborModelAdmin
from zbor.payments.bank import MAX_STATEMENT_BYTES, StatementError
from zbor.payments.bank_csv import parse_bank_csv
from zbor.payments.csv_detect import LAYOUT_FIELDS, detect_layout
from zbor.payments.models import StatementLayout

from . import bank_out, bank_returns, services
from .bank_balances import balance_warning
from .bank_import import import_statement
from .exceptions import DonationError
from .models import BankStatement, BankStatementLine, LineStatus, MonthlyStatus
from .queue_admin import MATCH_FIELDS, RESOLVE_FIELDS, SPLIT_FIELDS, QueueActions, ResolveLineForm, WaitingFilter
from .review_admin import money, warning

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
    list_display = [
        "__str__",
        "uploaded_by",
        "lines_total",
        "lines_new",
        "lines_matched",
        "closed_on",
        "closing_column",
    ]

    @admin.display(description=_("closing balance"), ordering="closing_balance")
    def closing_column(self, obj):
        return money(obj.closing_balance, obj.currency)

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
                if warning_text := balance_warning(report.statement):
                    messages.warning(request, warning_text)
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
            # A message travels in a cookie: never a cell of the file, which a wrongly
            # detected column could make a payer's name; only where the reading stopped.
            if exc.line is None:
                warning = _("Check the layout below: with it, the file does not read yet: %(error)s") % {"error": exc}
            else:
                warning = _(
                    "Check the layout below: with it, line %(n)s of the file does not read yet. Save the layout and import the file with it to see why."
                ) % {"n": exc.line}
            messages.warning(request, warning)
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
    list_display = [
        "booked_on",
        "amount_column",
        "pledged_column",
        "text",
        "status",
        "warning_column",
        "standing_order_column",
        "donation",
        "payout",
    ]
    list_filter = [WaitingFilter, "status", "booked_on"]
    list_select_related = ["donation", "payout", "monthly_gift"]
    readonly_fields = [
        "booked_on",
        "amount_column",
        "pledged_column",
        "warning_column",
        "standing_order_column",
        "text",
        "status",
        "reason",
        "donation",
        "payout",
        "refund",
        "returned_line",
        "statement",
    ]
    fields = [*readonly_fields, *RESOLVE_FIELDS, *MATCH_FIELDS, *SPLIT_FIELDS]

    @admin.display(description=_("amount"), ordering="amount")
    def amount_column(self, obj):
        return money(obj.amount, obj.currency)

    @admin.display(description=_("pledged amount"), ordering="pledged")
    def pledged_column(self, obj):
        # Shown while the line names its pledge (waiting, or accepted): in the pledge's currency.
        return money(obj.pledged, obj.donation.currency if obj.donation else "")

    @admin.display(description=_("warning"))
    def warning_column(self, obj):
        if obj.status != LineStatus.REVIEW or obj.donation is None:
            return ""
        return warning(obj.amount, obj.currency, obj.donation.currency)

    @admin.display(description=_("standing order"))
    def standing_order_column(self, obj):
        gift = obj.monthly_gift
        if gift is None:
            return ""
        if gift.status == MonthlyStatus.STOPPED and obj.status == LineStatus.UNMATCHED:
            return _(
                "Names standing order %(gift)s, which was stopped: assign this money to a campaign or return it."
            ) % {"gift": gift}
        return _("Standing order %(gift)s (%(status)s)") % {"gift": gift, "status": gift.get_status_display()}

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
        """An unmatched line's page decides it; an outgoing line's page matches it to its
        payout; the page of a line in review that brought more than pledged splits it."""
        status = obj.status if obj is not None else None
        shown: tuple[str, ...] = ()
        if status == LineStatus.UNMATCHED:
            shown = RESOLVE_FIELDS
        elif status == LineStatus.OUTGOING:
            shown = MATCH_FIELDS
        elif status == LineStatus.REVIEW and obj.pledged is not None and obj.amount > obj.pledged:
            shown = SPLIT_FIELDS
        hidden = {*RESOLVE_FIELDS, *MATCH_FIELDS, *SPLIT_FIELDS} - set(shown)
        return [f for f in self.fields if f not in hidden]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if data.get("match_payout"):
            self._match_payout(request, obj, data["match_payout"])
            return
        if data.get("match_refund") or data.get("match_return"):
            self._sent_back(request, obj, data.get("match_refund"), data.get("match_return"))
            return
        try:
            if data.get("attach_to_pledge"):
                donation = services.attach_line(obj, reference=data["attach_to_pledge"], by=request.user)
                done = _("The line is now a donation to %(campaign)s.")
            elif data.get("assign_to"):
                donation = services.assign_line(
                    obj, campaign=data["assign_to"], need=data.get("need"), by=request.user
                )
                done = _("The line is now a donation to %(campaign)s.")
            elif data.get("split_rest_to"):
                donation = services.split_line(
                    obj, campaign=data["split_rest_to"], need=data.get("split_need"), by=request.user
                )
                done = _("The pledge is booked at its amount; the rest, %(rest)s, is a donation to %(campaign)s.")
            else:
                return
        except PermissionDenied:
            messages.error(request, _("Your role may not do this."))
        except DonationError as exc:
            messages.error(request, str(exc))
        else:
            rest = money(donation.amount, donation.currency)
            messages.success(request, done % {"campaign": donation.campaign, "rest": rest})

    def _sent_back(self, request, obj, refund, returned) -> None:
        try:
            if refund is not None:
                bank_returns.match_to_refund(obj, refund=refund, by=request.user)
            else:
                bank_returns.match_to_return(obj, returned=returned, by=request.user)
        except PermissionDenied:
            messages.error(request, _("Your role may not do this."))
        except DonationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("The money out is recorded as sent back to the donor."))

    def _match_payout(self, request, obj, payout_id: int) -> None:
        try:
            bank_out.match_to_payout(obj, payout_id=payout_id, by=request.user)
        except PermissionDenied:
            messages.error(request, _("Your role may not do this."))
        except DonationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("The money out is matched to payout #%(id)s.") % {"id": payout_id})
