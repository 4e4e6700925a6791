"""Moves of money between needs and campaigns (moves.py): one person in finance requests one
(*Moves of money → Add*: from where, to where, how much, why), another approves it from the list."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from zbor.admin_base import ZborModelAdmin
from zbor.campaigns.models import Campaign, Need
from zbor.forms import AmountField
from zbor.money import Money, format_money

from . import moves
from .exceptions import MoveError, MoveRefused
from .forms import NeedChoiceField
from .models import Move


class CampaignChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, campaign):
        title = campaign.safe_translation_getter("title", any_language=True) or campaign.slug
        return f"{title} ({campaign.currency})"


def _campaigns():
    return Campaign.objects.filter(status__in=moves.MOVABLE_STATUSES).prefetch_related("translations").order_by("pk")


def _needs():
    return (
        Need.objects.filter(campaign__status__in=moves.MOVABLE_STATUSES)
        .select_related("campaign")
        .prefetch_related("translations", "campaign__translations")
        .order_by("campaign", "position", "pk")
    )


BEYOND_HELP = _("Leave empty for the campaign's money beyond its goal.")


class MoveRequestForm(forms.ModelForm):
    source_campaign = CampaignChoiceField(label=_("From campaign"), queryset=_campaigns())
    source_need = NeedChoiceField(label=_("From need"), queryset=_needs(), required=False, help_text=BEYOND_HELP)
    target_campaign = CampaignChoiceField(label=_("To campaign"), queryset=_campaigns())
    target_need = NeedChoiceField(label=_("To need"), queryset=_needs(), required=False, help_text=BEYOND_HELP)
    amount = AmountField(label=_("Amount"), help_text=_("In the campaigns' currency, e.g. 300 or 300.00."))

    class Meta:
        model = Move
        fields = ["source_campaign", "source_need", "target_campaign", "target_need", "amount", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Querysets anew per form: choices must include campaigns published since start-up.
        for name, queryset in (
            ("source_campaign", _campaigns()),
            ("target_campaign", _campaigns()),
            ("source_need", _needs()),
            ("target_need", _needs()),
        ):
            cast(forms.ModelChoiceField, self.fields[name]).queryset = queryset
        # The amount is read in the source campaign's currency (its minor units).
        source = str(self.data.get(self.add_prefix("source_campaign"), ""))
        currency = (
            Campaign.objects.filter(pk=int(source)).values_list("currency", flat=True).first()
            if source.isdigit()
            else None
        )
        amount = self.fields["amount"]
        if currency and isinstance(amount, AmountField):
            amount.currency = currency

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        source, target, amount = (cleaned.get(k) for k in ("source_campaign", "target_campaign", "amount"))
        if source is None or target is None or amount is None:
            return cleaned
        try:
            moves.check_move(source, cleaned.get("source_need"), target, cleaned.get("target_need"), amount)
        except MoveRefused as exc:
            raise forms.ValidationError(str(exc)) from None
        except MoveError as exc:
            self.add_error("amount", str(exc))
        return cleaned


def _place(campaign: Campaign, need: Need | None) -> str:
    title = campaign.safe_translation_getter("title", any_language=True) or campaign.slug
    if need is None:
        return gettext("%(campaign)s — beyond the goal") % {"campaign": title}
    return f"{title} — {need.safe_translation_getter('description', any_language=True) or f'#{need.pk}'}"


@admin.register(Move)
class MoveAdmin(ZborModelAdmin):
    form = MoveRequestForm
    list_display = ["__str__", "from_column", "to_column", "amount_column", "status", "requested_by", "decided_by"]
    list_filter = ["status", "requested_at"]
    list_select_related = ["source_campaign", "source_need", "target_campaign", "target_need"]
    actions = ["approve", "reject"]
    SHOWN = (
        "from_column",
        "to_column",
        "amount_column",
        "reason",
        "status",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("requested_by", "decided_by")
            .prefetch_related(
                "source_campaign__translations",
                "source_need__translations",
                "target_campaign__translations",
                "target_need__translations",
            )
        )

    def get_fields(self, request, obj=None):
        return self.SHOWN if obj is not None else super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return self.SHOWN if obj is not None else ()

    @admin.display(description=_("from"))
    def from_column(self, obj):
        return _place(obj.source_campaign, obj.source_need)

    @admin.display(description=_("to"))
    def to_column(self, obj):
        return _place(obj.target_campaign, obj.target_need)

    @admin.display(description=_("amount"), ordering="amount")
    def amount_column(self, obj):
        return format_money(Money(obj.amount, obj.currency), get_language() or "en")

    def has_change_permission(self, request, obj=None):
        return False  # requested once, then only approved or rejected

    def has_delete_permission(self, request, obj=None):
        return False

    def has_approve_permission(self, request):
        return request.user.has_perm(moves.APPROVE)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            move = moves.request_move(
                source_campaign=data["source_campaign"],
                source_need=data.get("source_need"),
                target_campaign=data["target_campaign"],
                target_need=data.get("target_need"),
                amount=data["amount"],
                reason=data["reason"],
                by=request.user,
            )
        except PermissionDenied:
            messages.error(request, _("Your role may not do this."))
        except MoveError as exc:  # what changed between the form's check and the lock
            messages.error(request, str(exc))
        else:
            obj.pk = move.pk  # Django's admin history names the move the service made
            messages.success(request, _("Move requested. Someone else in finance must approve it."))

    def response_add(self, request, obj, post_url_continue=None):
        return self.response_post_save_add(request, obj)

    def _decide(self, request, queryset, decide) -> None:
        for move in queryset:
            try:
                decide(move, by=request.user)
            except PermissionDenied:
                messages.error(request, _("Your role may not do this."))
                return
            except MoveError as exc:
                messages.error(request, f"{move}: {exc}")
            else:
                messages.success(request, _("%(move)s decided.") % {"move": move})

    @admin.action(description=_("Approve and book the selected moves"), permissions=["approve"])
    def approve(self, request, queryset):
        self._decide(request, queryset, moves.approve_move)

    @admin.action(description=_("Reject the selected moves"), permissions=["approve"])
    def reject(self, request, queryset):
        self._decide(request, queryset, moves.reject_move)
