"""What makes a bank's CSV layout usable, checked when finance saves one.

Works on any object with a ``StatementLayout``'s attributes, so the models module and the
detection can both use it without importing each other.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from zbor.money import is_currency

#: Headers of the columns that name the other party: never read, so never a reference column.
PAYER_HEADERS = frozenset(
    {
        "auftraggeber",
        "auftraggeber/empfänger",
        "empfänger",
        "beguenstigter/zahlungspflichtiger",
        "begünstigter/zahlungspflichtiger",
        "name",
        "payer",
        "payee",
        "counterparty",
        "nadawca",
        "odbiorca",
        "nadawca/odbiorca",
        "kontrahent",
        "dane kontrahenta",
        "mokėtojas",
        "gavėjas",
        "mokėtojas/gavėjas",
        "плательщик",
        "получатель",
        "контрагент",
    }
)

_DIRECTIVES = re.compile(r"%.")
_ALLOWED = frozenset({"%d", "%m", "%b", "%y", "%Y"})
_CHECK_DAY = date(2026, 11, 28)


def header_key(name: str) -> str:
    """A column name as compared: case and surrounding spaces, dots and colons do not count."""
    return " ".join(name.strip().strip(".:").split()).casefold()


def date_format_works(fmt: str) -> bool:
    """True when the format writes and reads back a day, a month and a year."""
    found = set(_DIRECTIVES.findall(fmt))
    if "%d" not in found or not found & {"%m", "%b"} or not found & {"%y", "%Y"} or found - _ALLOWED:
        return False
    try:
        return datetime.strptime(_CHECK_DAY.strftime(fmt), fmt).date() == _CHECK_DAY
    except ValueError:
        return False


def check_layout(layout: Any) -> None:
    """Raise ValidationError naming each field a layout cannot be read with."""
    errors = {**_money_errors(layout), **_text_errors(layout)}
    if errors:
        raise ValidationError(errors)


def _money_errors(layout: Any) -> dict[str, str]:
    errors = {}
    if layout.amount_column and (layout.credit_column or layout.debit_column):
        errors["amount_column"] = _("Give either an amount column or the money in and out columns, not both.")
    elif not layout.amount_column and not (layout.credit_column and layout.debit_column):
        errors["amount_column"] = _("Give an amount column, or both the money in and the money out columns.")
    errors.update(_direction_errors(layout))
    if layout.currency_column and layout.currency:
        errors["currency"] = _("Give either a currency column or a fixed currency, not both.")
    elif not layout.currency_column and not is_currency((layout.currency or "").upper()):
        errors["currency"] = _("Give a currency column, or a fixed currency such as EUR.")
    if layout.thousands_separator and layout.thousands_separator == layout.decimal_separator:
        errors["thousands_separator"] = _("The thousands and the decimal separator must differ.")
    return errors


def _direction_errors(layout: Any) -> dict[str, str]:
    markers = (layout.credit_marker.strip(), layout.debit_marker.strip())
    if not layout.direction_column:
        if any(markers):
            return {"direction_column": _("Name the column these markers are in, or leave the markers empty.")}
        return {}
    if not layout.amount_column:
        return {"direction_column": _("A money in or out column goes with an amount column.")}
    if not all(markers):
        return {"debit_marker": _("Give what the column says for money in and for money out.")}
    if markers[0].casefold() == markers[1].casefold():
        return {"debit_marker": _("Money in and money out need different markers.")}
    return {}


def _text_errors(layout: Any) -> dict[str, str]:
    errors = {}
    if not date_format_works(layout.date_format):
        errors["date_format"] = _(
            "This is not a date format with a day, a month and a year, such as {example}."
        ).format(example="%d.%m.%Y")
    references = [name.strip() for name in layout.reference_columns.split("|") if name.strip()]
    if not references:
        errors["reference_columns"] = _("Name at least one column.")
    elif any(header_key(name) in PAYER_HEADERS for name in references):
        errors["reference_columns"] = _("This column holds the payer's name: Zbor never keeps it.")
    return errors
