from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from zbor.campaigns.models import PUBLIC_STATUSES, Need, Status
from zbor.forms import AmountField

from .models import Channel


class NeedChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, need):
        campaign = need.campaign.safe_translation_getter("title", any_language=True)
        description = need.safe_translation_getter("description", any_language=True)
        return f"{campaign} — {description}"


class PayoutRequestForm(forms.Form):
    need = NeedChoiceField(
        label=_("Need"),
        # Withdrawn campaigns too: money held for someone taken offline must still reach them.
        queryset=Need.objects.filter(campaign__status__in=[*PUBLIC_STATUSES, Status.WITHDRAWN])
        .select_related("campaign")
        .order_by("campaign", "position"),
    )
    amount = AmountField(label=_("Amount"), help_text=_("In the campaign's currency, e.g. 500 or 500.00."))
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    recipient = forms.CharField(
        label=_("Recipient details"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Encrypted; only finance can read it, and every read is recorded."),
    )
    purpose = forms.CharField(label=_("Purpose"), max_length=300)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        need = cleaned.get("need")
        if need is not None:
            amount_field = cast(AmountField, self.fields["amount"])
            amount_field.currency = need.campaign.currency
            raw = self.data.get(self.add_prefix("amount"), "")
            try:
                cleaned["amount"] = amount_field.clean(raw)
                self.errors.pop("amount", None)
            except forms.ValidationError as exc:
                self.add_error("amount", exc)
        return cleaned


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class ProofForm(forms.Form):
    proof = forms.FileField(
        label=_("Proof of payment"),
        help_text=_("A receipt: picture or PDF. Metadata is removed; the file is encrypted."),
    )
