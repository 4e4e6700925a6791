"""Admin forms: amounts in major units, and stories whose note references must exist."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from parler.forms import TranslatableBaseInlineFormSet, TranslatableModelForm

from zbor.forms import AmountField
from zbor.images import clean_image
from zbor.money import InvalidAmount, Money, minor_digits, parse_amount

from . import markdown
from .floors import floor_problems
from .models import MAX_NEED_MINOR, Campaign, Kind, Need, Update
from .selectors import existing_note_keys


def validate_note_references(text: str) -> None:
    errors = markdown.note_reference_errors(text, existing_note_keys(set(markdown.note_keys(text))))
    if errors:
        raise ValidationError(errors, code="note")


WIDE = {"class": "vLargeTextField"}


def parse_suggested_amounts(typed: str, currency: str) -> list[int]:
    """ "20, 50, 100" in major units → [2000, 5000, 10000] in minor units, sorted, without
    repeats; each above zero and at most a single donation's limit."""
    # A comma alone may be a decimal comma ("12,50"): amounts are apart by a space or a semicolon.
    parts = [part for part in re.split(r"[;\s]+", typed.replace(", ", " ")) if part.strip(",")]
    if len(parts) > MAX_SUGGESTED_AMOUNTS:
        raise ValidationError(
            _("At most %(count)s suggested amounts.") % {"count": MAX_SUGGESTED_AMOUNTS}, code="too_many"
        )
    limit = settings.ZBOR_MAX_DONATION * 10 ** minor_digits(currency)
    amounts = set()
    for part in parts:
        try:
            minor = parse_amount(part, currency)
        except (InvalidAmount, ValueError):
            raise ValidationError(
                _("“%(value)s” is not an amount. Separate amounts with commas, e.g. 20, 50, 100.") % {"value": part},
                code="amount",
            ) from None
        if minor <= 0 or minor > limit:
            raise ValidationError(
                _("Each suggested amount must be above zero and at most %(limit)s.")
                % {"limit": Money(limit, currency).as_decimal()},
                code="range",
            )
        amounts.add(minor)
    return sorted(amounts)


#: At most this many suggested amounts: the donate form shows them as one row of choices.
MAX_SUGGESTED_AMOUNTS = 6


class CampaignAdminForm(TranslatableModelForm):
    required_languages = forms.TypedMultipleChoiceField(
        label=gettext_lazy("languages required before review"),
        choices=settings.LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy(
            "The campaign cannot be sent to review until it is complete in each of these languages: "
            "title, summary, place, story and every need."
        ),
    )

    # Typed in major units ("20, 50, 100"), stored as minor units: turned into them in clean()
    # once the campaign's currency is known.
    suggested_amounts = forms.CharField(
        label=gettext_lazy("suggested amounts"),
        required=False,
        max_length=200,
        help_text=gettext_lazy(
            "Optional. Up to six amounts in the campaign's currency, separated by commas, e.g. 20, 50, 100. "
            "The donate form offers them, then what each open need still lacks. Leave empty for the usual amounts."
        ),
    )

    yearly_target = AmountField(
        label=gettext_lazy("yearly target"),
        required=False,
        max_minor=MAX_NEED_MINOR,
        help_text=gettext_lazy(
            "Programme funds only, optional: what the fund hopes to collect each calendar year, in the "
            "campaign's currency, e.g. 12000. Its page shows what came in since 1 January against it."
        ),
    )

    class Meta:
        model = Campaign
        fields = "__all__"
        widgets = {
            "title": forms.TextInput(attrs=WIDE),
            "summary": forms.TextInput(attrs=WIDE),
            "story": forms.Textarea(attrs={**WIDE, "rows": 24}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "kind" in self.fields:
            self.fields["kind"].required = False  # clean_kind: personal unless said otherwise
        if "yearly_target" in self.fields:
            self.fields["yearly_target"].currency = self.instance.currency
        amounts = self.instance.suggested_amounts or []
        if amounts and not self.is_bound:
            currency = self.instance.currency
            self.initial["suggested_amounts"] = ", ".join(str(Money(a, currency).as_decimal()) for a in amounts)

    def clean(self):
        cleaned = super().clean()
        typed = cleaned.get("suggested_amounts") or ""
        currency = cleaned.get("currency") or self.instance.currency
        if isinstance(typed, str):
            try:
                cleaned["suggested_amounts"] = parse_suggested_amounts(typed, currency)
            except ValidationError as exc:
                self.add_error("suggested_amounts", exc)
        return cleaned

    def clean_currency(self):
        currency = self.cleaned_data.get("currency")
        if self.instance.pk and self.instance.published_at and currency != self.instance.currency:
            raise ValidationError(
                _(
                    "The currency cannot change once the campaign has been published: its needs and donations are in %(currency)s."
                )
                % {"currency": self.instance.currency}
            )
        if currency and "yearly_target" in self.fields:
            self.fields["yearly_target"].currency = currency  # cleaned next, in this currency
        return currency

    def clean_kind(self):
        # A form that leaves the kind out keeps the campaign's (personal for a new one).
        return self.cleaned_data.get("kind") or self.instance.kind or Kind.PERSONAL

    def clean_story(self):
        story = self.cleaned_data.get("story", "")
        validate_note_references(story)
        return story

    def clean_cover(self):
        cover = self.cleaned_data.get("cover")
        # A new upload has a content type; an unchanged cover is the stored file.
        if cover and hasattr(cover, "content_type"):
            return clean_image(cover)
        return cover


class NeedForm(TranslatableModelForm):
    amount = AmountField(max_minor=MAX_NEED_MINOR, help_text="")

    class Meta:
        model = Need
        fields = ["position", "amount"]

    def __init__(self, *args, currency: str = "EUR", **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["amount"].currency = currency
        self.fields["amount"].help_text = currency

    def clean_amount(self):
        amount = self.cleaned_data.get("amount")
        # A revision's copy answers for the live need it replaces.
        need_id = self.instance.replaces_id or self.instance.pk
        if amount is not None and need_id:
            problems = floor_problems({need_id: amount}, self.currency)
            if problems:
                raise ValidationError(problems, code="below_paid_out")
        return amount


class NeedFormSet(TranslatableBaseInlineFormSet):
    def clean(self):
        super().clean()
        if not (self.instance.pk and self.instance.published_at):
            return
        for form in self.forms:
            if form.instance.pk and self._should_delete_form(form):
                raise ValidationError(
                    _(
                        "Needs of a campaign that has been published cannot be deleted: donations may count on them. Close the campaign instead, or lower the need's amount."
                    )
                )

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        # The parent form has run already, so the campaign carries the currency just typed.
        kwargs["currency"] = self.instance.currency or "EUR"
        return kwargs


class UpdateAdminForm(TranslatableModelForm):
    class Meta:
        model = Update
        fields = "__all__"
        widgets = {"title": forms.TextInput(attrs=WIDE), "body": forms.Textarea(attrs={**WIDE, "rows": 8})}

    def clean_body(self):
        body = self.cleaned_data.get("body", "")
        validate_note_references(body)
        return body
