from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from zbor.money import is_currency


def validate_currency(value: str) -> None:
    if not is_currency(value):
        raise ValidationError(_("%(code)s is not an ISO 4217 currency code.") % {"code": value}, code="currency")
