"""Refunds of bank and demo gifts (services/refunds.py): one person in finance requests one
(*Refunds → Add*: the donation's id, the amount, why), another approves it from the list."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from zbor.admin_base import ZborModelAdmin
from zbor.forms import AmountField

from . import services
from .exceptions import DonationError
from .models import Donation, DonationStatus, Refund
from .review_admin import money


class RefundRequestForm(forms.ModelForm):
    donation = forms.ModelChoiceField(
        label=_("Donation"),
        queryset=Donation.objects.filter(status=DonationStatus.SUCCEEDED, provider__in=services.refunds.BOOKED_HERE),
        widget=forms.TextInput,
        help_text=_("The donation's number (its page in Donations shows it). Bank and demo gifts only."),
    )
    amount = AmountField(label=_("Amount to give back"))

    class Meta:
        model = Refund
        fields = ["donation", "amount", "reason"]

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
    list_display = ["__str__", "donation", "amount_column", "status", "requested_by", "decided_by", "created_at"]
    list_filter = ["status", "created_at"]
    list_select_related = ["donation", "requested_by", "decided_by"]
    actions = ["approve", "reject"]

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
            services.request_refund(data["donation"], amount=data["amount"], reason=data["reason"], by=request.user)
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
                messages.success(request, _("%(refund)s decided.") % {"refund": refund})

    @admin.action(description=_("Approve and book the selected refunds"), permissions=["approve"])
    def approve(self, request, queryset):
        self._decide(request, queryset, services.approve_refund)

    @admin.action(description=_("Reject the selected refunds"), permissions=["approve"])
    def reject(self, request, queryset):
        self._decide(request, queryset, services.reject_refund)
