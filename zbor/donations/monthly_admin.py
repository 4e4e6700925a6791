"""Finance's "Monthly gifts" screen: the month's summary above the list (monthly_reports.py),
every gift with its campaign, amount, method and state, its payments (read only), stopping one,
and a gift's annual summary for the donor (annual_summary.py). Like the donations list, the
donor's email is not shown, searched or filtered on: finance's work is the money, not the person."""

from __future__ import annotations

from babel.dates import format_date
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _

from zbor.accounts.services import audit
from zbor.admin_base import ReadOnlyAdmin
from zbor.money import Money, format_money
from zbor.payments.base import PaymentError

from . import annual_summary, services
from .exceptions import ReceiptNotResent
from .models import Donation, MonthlyGift, MonthlyStatus, StopReason
from .monthly_reports import MonthlyFigures, monthly_summary
from .services.monthly_changes import MANAGE

VIEW = "donations.view_monthlygift"


def _money(amount: int, currency: str) -> str:
    return format_money(Money(amount, currency), get_language() or "en")


class PaymentsInline(admin.TabularInline):
    """Each month's donation, read only (the Donations screen has the rest)."""

    model = Donation
    fk_name = "monthly_gift"
    fields = ("short_id", "amount_column", "status", "campaign", "succeeded_at")
    readonly_fields = ("short_id", "amount_column", "status", "campaign", "succeeded_at")
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name = _("payment")
    verbose_name_plural = _("payments")
    ordering = ["-pk"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("donation"))
    def short_id(self, obj):
        return str(obj.public_id)[:8]

    @admin.display(description=_("amount"))
    def amount_column(self, obj):
        return _money(obj.amount, obj.currency)


@admin.register(MonthlyGift)
class MonthlyGiftAdmin(ReadOnlyAdmin):
    list_display = [
        "reference_column",
        "campaign",
        "amount_column",
        "provider",
        "status",
        "started_at",
        "last_paid_at",
        "next_expected_on",
    ]
    list_filter = ["status", "provider", "campaign"]
    search_fields = ["public_id", "reference"]
    list_select_related = ["campaign"]
    actions = ["stop", "annual_summary"]
    inlines = [PaymentsInline]
    # The email (and the idempotency key, the checkout link) are not finance's work: like on
    # the donations screen they are not shown, searched or filtered on.
    exclude = ["email", "idempotency_key", "checkout_url", "amount"]
    readonly_fields = ["amount_column", "annual_summary_link"]
    change_list_template = "admin/donations/monthlygift/change_list.html"

    @admin.display(description=_("reference"), ordering="reference")
    def reference_column(self, obj):
        return obj.reference or str(obj.public_id)[:8]

    @admin.display(description=_("amount"), ordering="amount")
    def amount_column(self, obj):
        return _money(obj.amount, obj.currency)

    @admin.display(description=_("annual summary"))
    def annual_summary_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:donations_monthlygift_annual_summary", args=[obj.pk]),
            _("A year's payments, for the donor (PDF or email)"),
        )

    def has_stop_permission(self, request):
        return request.user.has_perm(MANAGE)

    @admin.action(description=_("Stop the selected monthly gifts"), permissions=["stop"])
    def stop(self, request, queryset):
        stopped = 0
        for gift in queryset.exclude(status=MonthlyStatus.STOPPED).order_by("pk"):
            try:
                stopped += services.stop_monthly(gift, reason=StopReason.STAFF, by=request.user)
            except PermissionDenied:
                raise
            except PaymentError:
                messages.error(
                    request, _("The payment provider did not stop gift %(gift)s: try again.") % {"gift": gift}
                )
        self.message_user(
            request,
            ngettext("%(count)d monthly gift stopped.", "%(count)d monthly gifts stopped.", stopped)
            % {"count": stopped},
        )

    @admin.action(description=_("Annual summary of the selected gift"), permissions=["view"])
    def annual_summary(self, request, queryset):
        gifts = list(queryset.values_list("pk", flat=True)[:2])
        if len(gifts) != 1:
            messages.warning(request, _("Choose one monthly gift for its annual summary."))
            return None
        return HttpResponseRedirect(reverse("admin:donations_monthlygift_annual_summary", args=gifts))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/annual-summary/", view(self.annual_summary_view), name="donations_monthlygift_annual_summary"
            )
        ] + super().get_urls()

    def annual_summary_view(self, request, pk: int):
        """A year of one gift's payments as the donor's PDF: downloaded, or emailed to the gift's
        address while it holds one. Both audited."""
        self.require(request, VIEW)
        gift = get_object_or_404(MonthlyGift, pk=pk)
        years = annual_summary.payment_years(gift)
        form = AnnualSummaryForm(years, request.POST or None) if years else None
        if request.method == "POST" and form is not None and form.is_valid():
            year = int(form.cleaned_data["year"])
            if "_email" in request.POST:
                return self._email_summary(request, gift, year)
            audit(request.user, "monthly_gift.annual_summary.download", gift, fields=["payments"])
            response = HttpResponse(annual_summary.annual_summary_pdf(gift, year), content_type="application/pdf")
            response["Content-Disposition"] = f'attachment; filename="{annual_summary.filename(year)}"'
            return response
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Annual summary of monthly gift %(gift)s") % {"gift": gift},
            "gift": gift,
            "form": form,
            "can_email": bool(gift.email) and request.user.has_perm(annual_summary.EMAIL),
        }
        return render(request, "admin/donations/monthlygift/annual_summary.html", context)

    def _email_summary(self, request, gift: MonthlyGift, year: int):
        try:
            annual_summary.email_annual_summary(gift, year=year, by=request.user)
        except ReceiptNotResent as exc:
            messages.warning(request, str(exc))
            return HttpResponseRedirect(request.path)
        messages.success(request, _("The summary of %(year)s will be emailed to the donor.") % {"year": year})
        return HttpResponseRedirect(reverse("admin:donations_monthlygift_change", args=[gift.pk]))

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        context = {**summary_context(), **(extra_context or {})}
        lapsed = services.lapsed_count()
        if lapsed:
            # How many bank standing orders lapsed (two expected months without a transfer,
            # ``services.standing_orders``), linked to them. Not a difference in the books.
            text = _("Standing orders lapsed (two expected months without a transfer): %(count)d") % {"count": lapsed}
            context["subtitle"] = format_html('<a href="?status__exact={}">{}</a>', MonthlyStatus.LAPSED.value, text)
        return super().changelist_view(request, context)


class AnnualSummaryForm(forms.Form):
    year = forms.TypedChoiceField(label=_("Year"), coerce=int)

    def __init__(self, years: list[int], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(year, str(year)) for year in years]  # type: ignore[attr-defined]


def _figures_row(label: str, figures: MonthlyFigures, currency: str, campaign_id: int | None) -> dict:
    changelist = reverse("admin:donations_monthlygift_changelist")
    where: dict[str, str | int] = {"campaign__id__exact": campaign_id} if campaign_id else {}
    return {
        "label": label,
        "active": figures.active,
        "income": _money(figures.income, currency),
        "paid": _money(figures.paid, currency),
        "new": figures.new,
        "stopped": figures.stopped,
        "failing": figures.failing,
        "failing_url": changelist + "?" + urlencode({"status__exact": MonthlyStatus.FAILING.value, **where}),
        "lapsed": figures.lapsed,
        "lapsed_url": changelist + "?" + urlencode({"status__exact": MonthlyStatus.LAPSED.value, **where}),
    }


def summary_context() -> dict:
    """The month's summary above the list: a row per campaign and currency, a total per currency."""
    summary = monthly_summary()
    return {
        "summary_month": format_date(summary.month, format="LLLL y", locale=get_language() or "en"),
        "summary_rows": [
            _figures_row(str(row.campaign), row.figures, row.currency, row.campaign.pk) for row in summary.rows
        ],
        "summary_totals": [
            _figures_row(str(_("All campaigns, %(currency)s") % {"currency": currency}), figures, currency, None)
            for currency, figures in summary.totals.items()
        ],
    }
