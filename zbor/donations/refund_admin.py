"""Refunds staff give (services/refunds.py): one person in finance requests one (*Refunds →
Add*: the donation's id, the amount, why, and where money already paid out is covered from),
another approves it from the list. A bank or demo refund is booked at approval; a card refund
is sent to the card provider and booked when it says the money went back."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from zbor.admin_base import ZborModelAdmin
from zbor.forms import AmountField

from . import services
from .exceptions import DonationError
from .models import Donation, DonationStatus, Refund, RefundStatus
from .review_admin import money


class RefundRequestForm(forms.ModelForm):
    donation = forms.ModelChoiceField(
        label=_("Donation"),
        queryset=Donation.objects.filter(
            status=DonationStatus.SUCCEEDED,
            provider__in=services.refunds.BOOKED_HERE + services.refunds.AT_PROVIDER,
        ),
        widget=forms.TextInput,
        help_text=_(
            "The donation's number (its page in Donations shows it). A card gift is refunded through the card "
            "provider when the refund is approved; a bank or demo gift is sent back by hand."
        ),
    )
    amount = AmountField(label=_("Amount to give back"))

    class Meta:
        model = Refund
        fields = ["donation", "amount", "reason", "cover"]
        widgets = {"cover": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The amount is read in the donation's currency (its minor units), known before cleaning.
        donation_id = str(self.data.get("donation", ""))
        currency = (
            Donation.objects.filter(pk=int(donation_id)).values_list("currency", flat=True).first()
            if donation_id.isdigit()
            else None
        )
        amount = self.fields["amount"]
        if currency and isinstance(amount, AmountField):
            amount.currency = currency


@admin.register(Refund)
class RefundAdmin(ZborModelAdmin):
    form = RefundRequestForm
    list_display = [
        "__str__",
        "donation",
        "amount_column",
        "status",
        "cover",
        "failure",
        "requested_by",
        "decided_by",
        "created_at",
    ]
    list_filter = ["status", "cover", "created_at"]
    list_select_related = ["donation", "requested_by", "decided_by"]
    actions = ["approve", "reject"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["donation", "amount", "reason", "cover"]
        return [
            "donation",
            "amount_column",
            "reason",
            "cover",
            "status",
            "provider_refund_id",
            "provider_status",
            "failure",
            "requested_by",
            "decided_by",
            "decided_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    @admin.display(description=_("amount"), ordering="amount")
    def amount_column(self, obj):
        return money(obj.amount, obj.donation.currency)

    def has_change_permission(self, request, obj=None):
        return False  # requested once, then only approved or rejected

    def has_delete_permission(self, request, obj=None):
        return False

    def has_approve_permission(self, request):
        return request.user.has_perm(services.refunds.APPROVE)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            services.request_refund(
                data["donation"], amount=data["amount"], reason=data["reason"], cover=data["cover"], by=request.user
            )
        except PermissionDenied:
            messages.error(request, _("Your role may not do this."))
        except DonationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Refund requested. Someone else in finance must approve it."))

    def response_add(self, request, obj, post_url_continue=None):
        return self.response_post_save_add(request, obj)

    def _decide(self, request, queryset, decide) -> None:
        for refund in queryset:
            try:
                decide(refund, by=request.user)
            except PermissionDenied:
                messages.error(request, _("Your role may not do this."))
                return
            except DonationError as exc:
                messages.error(request, f"{refund}: {exc}")
            else:
                refund.refresh_from_db()
                if refund.status == RefundStatus.SENT:
                    messages.warning(
                        request,
                        _("%(refund)s: sent to the card provider; it is booked when the provider says the money went.")
                        % {"refund": refund},
                    )
                else:
                    messages.success(request, _("%(refund)s decided.") % {"refund": refund})

    @admin.action(
        description=_("Approve the selected refunds (a card refund is sent to the card provider)"),
        permissions=["approve"],
    )
    def approve(self, request, queryset):
        self._decide(request, queryset, services.approve_refund)

    @admin.action(description=_("Reject the selected refunds"), permissions=["approve"])
    def reject(self, request, queryset):
        self._decide(request, queryset, services.reject_refund)
