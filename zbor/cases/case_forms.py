"""The caseworkers' forms on a case page (zbor/cases/case_admin.py)."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from zbor.campaigns.models import Need
from zbor.disbursements.models import Channel
from zbor.forms import AmountField

from . import templates
from .models import CheckItem, Outcome

TEXT_LIMIT = 10_000


def caseworkers():
    """Active staff holding the caseworker role, by username."""
    return (
        get_user_model().objects.filter(is_active=True, is_staff=True, groups__name="caseworker").order_by("username")
    )


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Caseworker"), queryset=caseworkers(), required=False, empty_label=_("Nobody")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = caseworkers()  # type: ignore[attr-defined]


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"),
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Sealed at once: only caseworkers with an unlocked key read it."),
    )


class AskForm(forms.Form):
    template = forms.ChoiceField(
        label=_("Question"),
        choices=(),
        help_text=_("The applicant reads it in their own language on their status page."),
    )
    text = forms.CharField(
        label=_("Added text (optional)"),
        required=False,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Shown to the applicant under the question as you write it, not translated. Sealed to the "
            "foundation's key and to the applicant's own."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = templates.choices()  # type: ignore[attr-defined]


class CheckForm(forms.Form):
    item = forms.ChoiceField(label=_("Item"), choices=CheckItem.choices)
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "What you saw or who you asked. For the risk: is the person still in the country, are "
            "relatives at risk? Sealed."
        ),
    )


class ProposeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Decision"), choices=Outcome.choices, widget=forms.RadioSelect)
    amount = AmountField(
        label=_("Amount to approve"),
        required=False,
        help_text=_("In the case's currency, e.g. 500 or 500.00. Only for approving."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Needed to decline; never shown to the applicant. Sealed."),
    )

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].currency = currency  # type: ignore[attr-defined]


class ConfirmForm(forms.Form):
    confirm = forms.BooleanField(label=_("I read the case and the checklist, and I agree."), required=True)


class CampaignForm(forms.Form):
    at_risk = forms.BooleanField(
        label=_("The person or close family are still in the country of risk"),
        required=False,
        initial=True,
        help_text=_(
            "Publishing the campaign then needs an admin's approval as well. Only an admin may untick it later."
        ),
    )
    confirm = forms.BooleanField(label=_("Create the draft campaign"), required=True)


class FundNeedField(forms.ModelChoiceField):
    def label_from_instance(self, need):
        fund = need.campaign.safe_translation_getter("title", any_language=True)
        return f"{fund} — {need.safe_translation_getter('description', any_language=True)}"


class GrantForm(forms.Form):
    need = FundNeedField(label=_("Fund and need"), queryset=Need.objects.none())
    amount = AmountField(label=_("Amount"), help_text=_("At most the approved amount."))
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    recipient = forms.CharField(
        label=_("Recipient details"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        help_text=_("Who receives the money and how. Encrypted; only finance reads it, every read recorded."),
    )

    def __init__(self, *args, needs, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["need"].queryset = needs  # type: ignore[attr-defined]
        self.fields["amount"].currency = currency  # type: ignore[attr-defined]


class PurgeForm(forms.Form):
    code = forms.CharField(label=_("Type the case code to confirm"), max_length=16)

    def __init__(self, *args, case_code: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.case_code = case_code

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip().upper()
        if code != self.case_code:
            raise forms.ValidationError(_("That is not this case's code."))
        return code
