"""Finance's review queue of money whose amount differs from its pledge (services/review.py).

Bank lines wait on the bank statement lines screen (filter "Amount differs: finance decides"),
provider payments on "Payments whose amount differs". On both, finance selects rows and runs
"Accept as received" or "Return to sender"; each action shows a confirmation page listing
both figures (and a warning above the per-donation maximum) before anything is decided.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Subquery
from django.template.response import TemplateResponse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _

from zbor.admin_base import ReadOnlyAdmin
from zbor.money import Money, format_money
from zbor.payments.base import PAID_TYPES
from zbor.payments.btcpay import MANUALLY_MARKED, PAID_LATE, PARTIALLY_PAID
from zbor.payments.models import EventStatus

from . import services
from .exceptions import DonationError
from .models import Donation, PaymentInReview
from .services.review import DECIDE

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

    _AdminBase = ModelAdmin[Any]
else:
    _AdminBase = object


#: Why a provider sent a payment to review whatever its amount (``PaymentEvent.extra["review"]``).
REVIEW_REASONS = {
    PAID_LATE: _("paid after the invoice expired, at a rate that no longer held"),
    PARTIALLY_PAID: _("part of the amount, on an invoice that expired"),
    MANUALLY_MARKED: _("marked settled by hand in BTCPay"),
}


def money(amount: int | None, currency: str) -> str:
    if amount is None or not currency:
        return "-"
    return format_money(Money(amount, currency), get_language() or "en")


def warning(received: int, received_currency: str, pledged_currency: str) -> str:
    """What finance must know before accepting: another currency, or above the maximum."""
    if pledged_currency and received_currency != pledged_currency:
        return str(_("Another currency than the pledge: it can only be returned."))
    limit = services.max_donation(received_currency)
    if received > limit:
        return str(
            _("Above the per-donation maximum of %(limit)s: accept only if you are sure it is a donation.")
            % {"limit": money(limit, received_currency)}
        )
    return ""


class ReturnForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the money returned?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
        help_text=_(
            "Nothing is booked. Zbor does not send the money back: you do, by hand, from the bank "
            "or the provider's dashboard (a refund through the provider from Zbor comes later)."
        ),
    )


class DecideAmountActions(_AdminBase):
    """The two decisions as admin actions with a confirmation page. A subclass says how a row
    reads (``decision_row``) and which service decides it (``accept``, ``send_back``)."""

    actions = ["accept_as_received", "return_to_sender"]

    def has_decide_permission(self, request) -> bool:
        return request.user.has_perm(DECIDE)

    def decision_row(self, obj) -> dict[str, str]:
        raise NotImplementedError

    def accept(self, obj, *, by) -> None:
        raise NotImplementedError

    def send_back(self, obj, *, reason: str, by) -> None:
        raise NotImplementedError

    @admin.action(description=_("Accept as received…"), permissions=["decide"])
    def accept_as_received(self, request, queryset):
        if request.POST.get("post") != "yes":
            return self._confirm(
                request,
                queryset,
                "accept_as_received",
                title=_("Accept as received"),
                note=_(
                    "Each donation is booked at the amount that arrived, which becomes its amount. "
                    "Public totals change at once. The audit log records who decided."
                ),
            )
        self._decide(request, queryset, lambda obj: self.accept(obj, by=request.user))
        return None

    @admin.action(description=_("Return to sender…"), permissions=["decide"])
    def return_to_sender(self, request, queryset):
        form = ReturnForm(request.POST if request.POST.get("post") == "yes" else None)
        if not form.is_valid():
            return self._confirm(
                request,
                queryset,
                "return_to_sender",
                title=_("Return to sender"),
                note=_("Nothing is booked and the pledges stay open. Send the money back by hand."),
                form=form,
            )
        reason = form.cleaned_data["reason"]
        self._decide(request, queryset, lambda obj: self.send_back(obj, reason=reason, by=request.user))
        return None

    def _confirm(self, request, queryset, action: str, *, title, note, form=None) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "note": note,
            "form": form,
            "rows": [self.decision_row(obj) for obj in queryset],
            "queryset": queryset,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/donations/decide_amount.html", context)

    def _decide(self, request, queryset, decide: Callable[[Any], None]) -> None:
        done = 0
        for obj in queryset:
            try:
                decide(obj)
            except PermissionDenied:
                messages.error(request, _("Your role may not do this."))
                return
            except DonationError as exc:
                row = self.decision_row(obj)
                messages.error(request, f"{row['name']} ({row['received']}): {exc}")
            else:
                done += 1
        if done:
            messages.success(request, ngettext("%(count)d decided.", "%(count)d decided.", done) % {"count": done})


def _donation_field(field: str) -> Subquery:
    return Subquery(
        Donation.objects.filter(
            provider=OuterRef("provider"), checkout_reference=OuterRef("checkout_reference")
        ).values(field)[:1]
    )


@admin.register(PaymentInReview)
class PaymentInReviewAdmin(DecideAmountActions, ReadOnlyAdmin):
    """Provider payments that were not booked because their amount differed, waiting for finance
    or decided (they keep the pledged amount)."""

    list_display = [
        "received_at",
        "provider",
        "received_column",
        "pledged_column",
        "status",
        "warning_column",
        "coin_column",
        "donation_column",
    ]
    list_filter = ["status", "provider"]
    readonly_fields = (
        "received_at",
        "provider",
        "event_id",
        "received_column",
        "pledged_column",
        "warning_column",
        "coin_column",
        "donation_column",
        "status",
        "reason",
    )
    fields = readonly_fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(type__in=PAID_TYPES, pledged__isnull=False)
            .annotate(
                donation_currency=_donation_field("currency"),
                donation_public_id=_donation_field("public_id"),
            )
            .order_by("-received_at")
        )

    @admin.display(description=_("amount received"))
    def received_column(self, obj):
        return money(obj.data.get("amount"), obj.data.get("currency") or obj.donation_currency)

    @admin.display(description=_("pledged amount"), ordering="pledged")
    def pledged_column(self, obj):
        return money(obj.pledged, obj.donation_currency)

    @admin.display(description=_("warning"))
    def warning_column(self, obj):
        if obj.status != EventStatus.REVIEW:
            return ""
        received = obj.data.get("currency") or obj.donation_currency
        return warning(obj.data.get("amount", 0), received, obj.donation_currency)

    @admin.display(description=_("in the coin"))
    def coin_column(self, obj):
        """A Bitcoin payment: what arrived in the coin, at which rate, and why it waits even at the
        pledged amount (paid after the invoice expired, marked settled by hand at BTCPay)."""
        extra = obj.data.get("extra") or {}
        if not extra.get("coin"):
            return ""
        text = _("%(amount)s %(coin)s at %(rate)s") % {
            "amount": extra.get("coin_amount", "?"),
            "coin": extra["coin"],
            "rate": extra.get("rate", "?"),
        }
        why = REVIEW_REASONS.get(extra.get("review", ""))
        return f"{text}: {why}" if why else text

    @admin.display(description=_("donation"))
    def donation_column(self, obj):
        return str(obj.donation_public_id)[:8] if obj.donation_public_id else "-"

    def decision_row(self, obj) -> dict[str, str]:
        return {
            "name": str(obj),
            "received": self.received_column(obj),
            "pledged": self.pledged_column(obj),
            "warning": " ".join(filter(None, [self.warning_column(obj), self.coin_column(obj)])),
        }

    def accept(self, obj, *, by) -> None:
        services.accept_payment(obj, by=by)

    def send_back(self, obj, *, reason: str, by) -> None:
        services.return_payment(obj, reason=reason, by=by)
