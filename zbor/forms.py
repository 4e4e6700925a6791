"""Form fields shared by the apps."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from zbor.money import DEFAULT_CURRENCY, InvalidAmount, Money, minor_digits, parse_amount


class AmountField(forms.CharField):
    """A money amount typed in major units ("500" or "500.00"), cleaned to integer minor units.

    Set ``currency`` before validation (a formset does it from its parent campaign).
    """

    def __init__(self, *, currency: str = DEFAULT_CURRENCY, max_minor: int | None = None, **kwargs):
        self.currency = currency
        self.max_minor = max_minor
        kwargs.setdefault("max_length", 24)
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            return str(Money(value, self.currency).as_decimal())
        return value

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            minor = parse_amount(value, self.currency)
        except InvalidAmount as exc:
            raise ValidationError(str(exc), code="amount") from None
        if self.max_minor is not None and minor > self.max_minor:
            limit = Money(self.max_minor, self.currency).as_decimal()
            raise ValidationError(_("The amount can be at most %(limit)s.") % {"limit": f"{limit:,}"}, code="max")
        return minor

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.update({"inputmode": "decimal" if minor_digits(self.currency) else "numeric", "autocomplete": "off"})
        return attrs
