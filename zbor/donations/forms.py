"""The donate form: works as a plain HTML form POST, no JavaScript needed."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
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


#: Suggested monthly amounts in major units, per currency (others: MONTHLY_LADDER).
MONTHLY_LADDER = [5, 10, 25, 50]
MONTHLY_LADDERS = {"PLN": [20, 50, 100, 200], "UAH": [100, 250, 500, 1000], "CZK": [100, 250, 500, 1000]}
ONCE, MONTHLY = "once", "monthly"


def monthly_presets(campaign: Campaign) -> list[int]:
    """The suggested monthly amounts in minor units: smaller than one-off gifts, given every month."""
    digits = minor_digits(campaign.currency)
    return [value * 10**digits for value in MONTHLY_LADDERS.get(campaign.currency, MONTHLY_LADDER)]


def monthly_note(campaign: Campaign) -> str:
    """Where a monthly gift goes once a personal campaign closes, as the form says it."""
    fund = campaign.monthly_fund
    if fund is not None and fund != campaign:
        title = fund.safe_translation_getter("title", any_language=True) or ""
        return _(
            "When this campaign closes, your monthly gift goes on to “%(fund)s”. You can stop it at any time."
        ) % {"fund": title}
    return _("You can stop a monthly gift at any time.")


#: At most this many open needs offer what they still lack as a suggested amount.
MAX_NEED_SUGGESTIONS = 3


def presets(campaign: Campaign) -> list[int]:
    """The fixed suggested amounts in minor units: the editors' (``Campaign.suggested_amounts``),
    else a ladder fit for the currency. They stay the same from one gift to the next."""
    limit = max_donation(campaign.currency)
    chosen = [value for value in campaign.suggested_amounts or [] if isinstance(value, int) and 0 < value <= limit]
    if chosen:
        return sorted(set(chosen))
    digits = minor_digits(campaign.currency)
    ladder = PLN_LIKE.get(campaign.currency) or LADDERS.get(digits, LADDERS[2])
    return [value * 10**digits for value in ladder]


def need_suggestions(campaign: Campaign, still_needed: dict[int, int], needs: list[Need]) -> list[tuple[int, Need]]:
    """(what it still lacks, the need) for the first open needs whose remainder one gift can cover."""
    limit = max_donation(campaign.currency)
    open_needs = [(still_needed[n.pk], n) for n in needs if 0 < still_needed.get(n.pk, 0) <= limit]
    return open_needs[:MAX_NEED_SUGGESTIONS]


@dataclass(frozen=True)
class DonateChoices:
    """The form's choices for one campaign in one language: worked out once, used by every
    visit (the form's fields are Django's, made for each form as usual)."""

    currency: str
    presets: list[tuple[int, str]]
    needs: list[tuple[int | str, str]]
    methods: list[tuple[str, str]]
    #: A suggested amount that is what a need still lacks, with that need's id: chosen without
    #: choosing a need, the gift goes to that need (its label says so).
    preset_needs: dict[int, int] = field(default_factory=dict)
    monthly_presets: list[tuple[int, str]] = field(default_factory=list)
    #: The payment methods that take monthly gifts, and what the form says about where they go.
    monthly_methods: list[str] = field(default_factory=list)
    monthly_note: str = ""

    @classmethod
    def build(cls, campaign: Campaign, needs: list[Need], still_needed: dict[int, int]) -> DonateChoices:
        language = get_language() or "en"
        descriptions = {
            need.pk: need.safe_translation_getter("description", any_language=True) or "" for need in needs
        }
        need_choices: list[tuple[int | str, str]] = [("", _("Where it is needed most"))]
        for need in needs:
            amount_text = format_money(Money(need.amount, campaign.currency), language)
            need_choices.append((need.pk, f"{amount_text} — {descriptions[need.pk]}"))
        labels = {value: format_money(Money(value, campaign.currency), language) for value in presets(campaign)}
        preset_needs: dict[int, int] = {}
        for value, need in need_suggestions(campaign, still_needed, needs):
            if value in preset_needs:
                continue  # two needs lacking the same amount: the first one is offered
            preset_needs[value] = need.pk
            labels[value] = _("%(amount)s — what “%(need)s” still lacks") % {
                "amount": format_money(Money(value, campaign.currency), language),
                "need": descriptions[need.pk],
            }
        fixed = [(value, labels[value]) for value in sorted(labels) if value not in preset_needs]
        remainders = [(value, labels[value]) for value in preset_needs]
        methods = [(name, registry.label(name)) for name in registry.enabled()]
        return cls(
            currency=campaign.currency,
            presets=fixed + remainders,
            needs=need_choices,
            methods=methods,
            preset_needs=preset_needs,
            monthly_presets=[
                (value, format_money(Money(value, campaign.currency), language)) for value in monthly_presets(campaign)
            ],
            monthly_methods=[
                name for name, provider in registry.enabled().items() if getattr(provider, "monthly", False)
            ],
            monthly_note=monthly_note(campaign),
        )


class DonateForm(forms.Form):
    frequency = forms.ChoiceField(
        label=gettext_lazy("How often"),
        required=False,
        initial=ONCE,
        choices=[(ONCE, gettext_lazy("Once")), (MONTHLY, gettext_lazy("Monthly"))],
        widget=forms.RadioSelect,
    )
    monthly_preset = forms.TypedChoiceField(
        label=gettext_lazy("Suggested monthly amounts"), required=False, coerce=int, widget=forms.RadioSelect
    )
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
        self.preset_needs = choices.preset_needs
        amount = cast(AmountField, self.fields["amount"])
        amount.currency = choices.currency
        amount.widget.attrs.update(amount.widget_attrs(amount.widget))  # the currency's input mode
        amount.help_text = _("In %(currency)s. Typing an amount here overrides the suggestion.") % {
            "currency": choices.currency
        }
        cast(forms.ChoiceField, self.fields["preset"]).choices = choices.presets
        cast(forms.ChoiceField, self.fields["monthly_preset"]).choices = choices.monthly_presets
        self.monthly_methods = choices.monthly_methods
        #: The ways to pay offered, by name: the form says more about some (Bitcoin).
        self.method_names = [name for name, _label in choices.methods]
        self.monthly_note = choices.monthly_note
        self.monthly_methods_text = ", ".join(
            label for name, label in choices.methods if name in choices.monthly_methods
        )
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
        if cleaned.get("frequency") == MONTHLY:
            return self._clean_monthly(cleaned)
        cleaned["frequency"] = ONCE
        amount = cleaned.get("amount") or cleaned.get("preset")
        if not cleaned.get("amount") and cleaned.get("need") is None and cleaned.get("preset") in self.preset_needs:
            # "€317 — what “warm clothes” still lacks", chosen without a need: for that need.
            cleaned["need"] = self.preset_needs[cleaned["preset"]]
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
        self._check_challenge(cleaned)
        return cleaned

    def _clean_monthly(self, cleaned: dict[str, Any]) -> dict[str, Any]:
        """A monthly gift: its own suggested amounts, an email (to manage or stop it), a
        payment method that takes monthly gifts; no need (it goes where it is needed most)."""
        cleaned["need"] = None
        amount = cleaned.get("amount") or cleaned.get("monthly_preset")
        if not amount:
            self.add_error("amount", _("Enter an amount."))
        elif amount > max_donation(self.campaign.currency):
            self.add_error("amount", _("A monthly gift this large cannot be given here."))
        if not cleaned.get("email") and "email" not in self.errors:
            self.add_error("email", _("A monthly gift needs your email: it is how you change or stop it."))
        method = cleaned.get("method")
        if method and method not in self.monthly_methods:
            self.add_error("method", _("This payment method does not take monthly gifts."))
        cleaned["total"] = amount or 0
        self._check_challenge(cleaned)
        return cleaned

    def _check_challenge(self, cleaned: dict[str, Any]) -> None:
        provider = registry.get(cleaned.get("method") or "")
        # Without JavaScript there is no answer at all: say so here. An answer is checked when
        # the donation is made (zbor.site.donate_views), where a resent form needs none.
        if provider is not None and provider.needs_challenge and not cleaned.get("challenge"):
            self.add_error("method", challenge.refusal())
