"""Form fields shared by the apps."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from zbor.money import DEFAULT_CURRENCY, InvalidAmount, Money, format_money, minor_digits, parse_amount

MAX_TYPED_LENGTH = 24


class AmountField(forms.Field):
    """A money amount typed in major units ("500" or "500.00"), cleaned to integer minor units.

    Set ``currency`` before validation (a formset does it from its parent campaign).
    """

    def __init__(self, *, currency: str = DEFAULT_CURRENCY, max_minor: int | None = None, **kwargs):
        self.currency = currency
        self.max_minor = max_minor
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            return str(Money(value, self.currency).as_decimal())
        return value

    def to_python(self, value):
        if value in self.empty_values or not str(value).strip():
            return None
        value = str(value)
        if len(value) > MAX_TYPED_LENGTH:
            raise ValidationError(_("Enter a number, like 25 or 25.50."), code="amount")
        try:
            minor = parse_amount(value, self.currency)
        except InvalidAmount as exc:
            raise ValidationError(str(exc), code="amount") from None
        if self.max_minor is not None and minor > self.max_minor:
            limit = format_money(Money(self.max_minor, self.currency), get_language() or "en")
            raise ValidationError(_("The amount can be at most %(limit)s.") % {"limit": limit}, code="max")
        return minor

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update(
            {
                "maxlength": str(MAX_TYPED_LENGTH),
                "inputmode": "decimal" if minor_digits(self.currency) else "numeric",
                "autocomplete": "off",
            }
        )
        return attrs
