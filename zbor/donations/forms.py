"""The donate form: works as a plain HTML form POST, no JavaScript needed."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from zbor import challenge
from zbor.campaigns.models import Campaign, Need
from zbor.forms import AmountField
from zbor.money import Money, format_money, minor_digits
from zbor.payments import registry

from .services import max_donation

LADDERS = {0: [500, 1000, 2500, 5000], 2: [10, 25, 50, 100, 250], 3: [10, 25, 50, 100]}
PLN_LIKE = {"PLN": [20, 50, 100, 200, 500], "UAH": [100, 250, 500, 1000], "CZK": [200, 500, 1000, 2500]}
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# Characters a donor's words never need: controls (but newlines), and the invisible direction
# and zero-width marks that make a text read differently from what it is (a name that spoofs
# the foundation, an address hidden in a message).
HIDDEN_CHARACTERS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def plain_text(value: str) -> str:
    """A donor's free text as it is stored: NFC, without hidden characters, trimmed. It is
    always shown escaped (never as HTML), and only after staff approved it."""
    text = unicodedata.normalize("NFC", value.replace("\r\n", "\n"))
    return HIDDEN_CHARACTERS.sub("", text).strip()


def presets(campaign: Campaign, still_needed: dict[int, int], needs: list[Need]) -> list[int]:
    """Suggested amounts in minor units: a ladder fit for the currency, plus what open needs lack."""
    digits = minor_digits(campaign.currency)
    ladder = PLN_LIKE.get(campaign.currency) or LADDERS.get(digits, LADDERS[2])
    values = {value * 10**digits for value in ladder}
    values |= {still_needed[n.pk] for n in needs if 0 < still_needed.get(n.pk, 0) <= max_donation(campaign.currency)}
    return sorted(values)[:8]


@dataclass(frozen=True)
class DonateChoices:
    """The form's choices for one campaign in one language: worked out once, used by every
    visit (the form's fields are Django's, made for each form as usual)."""

    currency: str
    presets: list[tuple[int, str]]
    needs: list[tuple[int | str, str]]
    methods: list[tuple[str, str]]

    @classmethod
    def build(cls, campaign: Campaign, needs: list[Need], still_needed: dict[int, int]) -> DonateChoices:
        language = get_language() or "en"
        need_choices: list[tuple[int | str, str]] = [("", _("Where it is needed most"))]
        for need in needs:
            description = need.safe_translation_getter("description", any_language=True) or ""
            need_choices.append(
                (need.pk, f"{format_money(Money(need.amount, campaign.currency), language)} — {description}")
            )
        preset_choices = [
            (value, format_money(Money(value, campaign.currency), language))
            for value in presets(campaign, still_needed, needs)
        ]
        methods = [(name, registry.label(name)) for name in registry.enabled()]
        return cls(currency=campaign.currency, presets=preset_choices, needs=need_choices, methods=methods)


class DonateForm(forms.Form):
    preset = forms.TypedChoiceField(
        label=gettext_lazy("Suggested amounts"), required=False, coerce=int, widget=forms.RadioSelect
    )
    amount = AmountField(label=gettext_lazy("Amount"), required=False)
    need = forms.TypedChoiceField(label=gettext_lazy("What it is for"), required=False, coerce=int, empty_value=None)
    public_name = forms.CharField(
        label=gettext_lazy("Name to show (optional)"),
        required=False,
        max_length=40,
        help_text=gettext_lazy("A first name or a nickname. Leave it empty to give anonymously."),
    )
    email = forms.EmailField(
        label=gettext_lazy("Email for a receipt (optional)"),
        required=False,
        max_length=254,
        help_text=gettext_lazy("Used only to send your receipt, and for a bank transfer its details, then deleted."),
    )
    message = forms.CharField(
        label=gettext_lazy("Words of support (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Shown on the campaign page after the foundation has read it. At most 500 characters."),
    )
    method = forms.ChoiceField(label=gettext_lazy("How to pay"), widget=forms.RadioSelect)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    #: The answer to the proof-of-work challenge (zbor/challenge.py), filled in by the page's
    #: script. Only card payments need it; a bank transfer works without JavaScript.
    challenge = forms.CharField(widget=forms.HiddenInput, required=False, max_length=2000)

    def __init__(self, *args, campaign: Campaign, choices: DonateChoices, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        amount = cast(AmountField, self.fields["amount"])
        amount.currency = choices.currency
        amount.widget.attrs.update(amount.widget_attrs(amount.widget))  # the currency's input mode
        amount.help_text = _("In %(currency)s. Typing an amount here overrides the suggestion.") % {
            "currency": choices.currency
        }
        cast(forms.ChoiceField, self.fields["preset"]).choices = choices.presets
        cast(forms.ChoiceField, self.fields["need"]).choices = choices.needs
        method = cast(forms.ChoiceField, self.fields["method"])
        method.choices = choices.methods
        if len(choices.methods) == 1:
            method.initial = choices.methods[0][0]

    def clean_public_name(self):
        return " ".join(plain_text(self.cleaned_data["public_name"]).split())

    def clean_message(self):
        return plain_text(self.cleaned_data["message"])

    def clean_idempotency_key(self):
        key = self.cleaned_data["idempotency_key"]
        if not IDEMPOTENCY_KEY.match(key):
            raise ValidationError(_("This form has expired. Please reload the page."))
        return key

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if "amount" in self.errors:
            return cleaned
        amount = cleaned.get("amount") or cleaned.get("preset")
        if not amount:
            self.add_error("amount", _("Enter an amount."))
            return cleaned
        limit = max_donation(self.campaign.currency)
        if amount > limit:
            self.add_error(
                "amount",
                _("A single donation can be at most %(limit)s.")
                % {"limit": format_money(Money(limit, self.campaign.currency), get_language() or "en")},
            )
        cleaned["total"] = amount
        provider = registry.get(cleaned.get("method") or "")
        # Without JavaScript there is no answer at all: say so here. An answer is checked when
        # the donation is made (zbor.site.donate_views), where a resent form needs none.
        if provider is not None and provider.needs_challenge and not cleaned.get("challenge"):
            self.add_error("method", challenge.refusal())
        return cleaned
