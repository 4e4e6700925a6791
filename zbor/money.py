"""Money: an integer amount in minor units and an ISO 4217 code.

Amounts never pass through floats. ``Decimal`` appears only at the edge, to hand a value to Babel
for display and to parse what a person typed; storage is always the integer.

>>> eur = Money(200000, "EUR")
>>> format_money(eur, "en")
'€2,000'
>>> format_money(Money(1250, "EUR"), "ru")
'12,50\\xa0€'
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext
from functools import cache, lru_cache

from babel import Locale
from babel.numbers import get_currency_precision, get_currency_symbol, list_currencies
from django.utils.translation import gettext as _

DEFAULT_CURRENCY = "EUR"


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were combined."""


class InvalidAmount(ValueError):
    """A typed amount is not a valid positive amount of the currency (the message says why)."""


@cache
def known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def is_currency(code: str) -> bool:
    return code in known_currencies()


@cache
def minor_digits(currency: str) -> int:
    """Digits after the decimal point for a currency: 2 for EUR, 0 for JPY, 3 for KWD."""
    return get_currency_precision(currency)


@dataclass(frozen=True, slots=True)
class Money:
    amount: int
    currency: str = DEFAULT_CURRENCY

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError(f"Money amount must be an int of minor units, not {type(self.amount).__name__}")
        if not is_currency(self.currency):
            raise ValueError(f"Unknown currency code {self.currency!r}")

    def _same(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def as_decimal(self) -> Decimal:
        """The value in major units, for display only."""
        return Decimal(self.amount).scaleb(-minor_digits(self.currency))

    def __str__(self) -> str:
        return format_money(self, "en")


@lru_cache(maxsize=256)
def _formatter(locale: str, currency: str, whole: bool):
    """Babel's parsed locale, its currency pattern (without fraction digits for whole amounts:
    "€2,000") and the currency's symbol, made once per locale and currency."""
    parsed = Locale.parse(locale)
    pattern = parsed.currency_formats["standard"]
    if whole:
        pattern = copy.copy(pattern)
        pattern.frac_prec = (0, 0)
    return parsed, pattern, get_currency_symbol(currency, locale)


def format_money(money: Money, locale: str) -> str:
    """Format per CLDR for the locale; whole amounts drop the zero cents ("€2,000", "2 000 €")."""
    whole = money.amount % (10 ** minor_digits(money.currency)) == 0
    parsed, pattern, symbol = _formatter(locale, money.currency, whole)
    # What babel.numbers.format_currency does, with the locale and pattern parsed once.
    text = pattern.apply(money.as_decimal(), parsed, currency=money.currency, currency_digits=not whole)
    return _space_letter_symbol(text, symbol)


def _space_letter_symbol(text: str, symbol: str) -> str:
    # CLDR's currencySpacing, which Babel does not apply: a symbol made of letters ("KWD",
    # "zł" is fine already) is kept apart from the digits by a no-break space: "KWD 1.234".
    if symbol[-1:].isalpha() and text.startswith(symbol) and text[len(symbol) : len(symbol) + 1].isdigit():
        return symbol + "\u00a0" + text[len(symbol) :]
    if symbol[:1].isalpha() and text.endswith(symbol) and text[-len(symbol) - 1 : -len(symbol)].isdigit():
        return text[: -len(symbol)] + "\u00a0" + symbol
    return text


def _normalise_separators(text: str, digits: int) -> str | None:
    """ "1,000.50", "1.000,50", "1 000,5", "1,000" → a plain "1000.50"; None if ambiguous nonsense.

    Whichever of "," and "." comes last is the decimal mark when both appear. A lone separator
    followed by exactly three digits is a thousands separator for currencies with fewer than
    three decimals ("1,000" euros is a thousand, never one).
    """
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        group = "." if decimal == "," else ","
        whole, _, fraction = text.rpartition(decimal)
        if decimal in whole or not re.fullmatch(rf"-?\d{{1,3}}({re.escape(group)}\d{{3}})*", whole):
            return None
        return whole.replace(group, "") + "." + fraction
    separator = "," if "," in text else "." if "." in text else ""
    if not separator:
        return text
    parts = text.split(separator)
    if len(parts) > 2 or (len(parts) == 2 and len(parts[1]) == 3 and digits < 3):
        if all(len(p) == 3 for p in parts[1:]) and 1 <= len(parts[0].lstrip("-")) <= 3:
            return "".join(parts)
        return None
    return parts[0] + "." + parts[1]


_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)")


def parse_amount(text: str, currency: str) -> int:
    """Parse a typed major-unit amount ("12", "12.50", "12,50") into minor units.

    Raises InvalidAmount for anything that is not a positive amount with at most the
    currency's number of decimals.
    """
    cleaned = re.sub(r"[\s\u00a0\u202f']", "", text)
    if not cleaned:
        raise InvalidAmount(_("Enter an amount."))
    normalised = _normalise_separators(cleaned, minor_digits(currency))
    # Plain digits only: Decimal would also take "1e999990", a million-digit number that takes
    # the server most of a minute to turn into an int (and "1e999999" overflows).
    if normalised is None or not _PLAIN_NUMBER.fullmatch(normalised):
        raise InvalidAmount(_("Enter a number, like 25 or 25.50."))
    try:
        value = Decimal(normalised)
    except InvalidOperation:
        raise InvalidAmount(_("Enter a number, like 25 or 25.50.")) from None
    if not value.is_finite():
        raise InvalidAmount(_("Enter a number, like 25 or 25.50."))
    digits = minor_digits(currency)
    with localcontext(prec=len(normalised) + digits):  # exact however many digits: never rounded
        minor = value.scaleb(digits)
    if minor != minor.to_integral_value():
        raise InvalidAmount(
            _("%(currency)s amounts have at most %(digits)s decimal places.")
            % {"currency": currency, "digits": digits}
        )
    if minor <= 0:
        raise InvalidAmount(_("Enter an amount greater than zero."))
    return int(minor)


def split_proportionally(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` minor units in proportion to ``weights``, in whole units, losing none.

    Largest remainder method: each part is rounded down, and the units left over go to the
    parts with the largest remainders (the earlier part on a tie). The parts add up to
    ``total`` exactly and none exceeds its weight when ``total <= sum(weights)``.

    >>> split_proportionally(100, [1, 1, 1])
    [34, 33, 33]
    """
    whole = sum(weights)
    if total < 0 or whole <= 0 or any(w < 0 for w in weights):
        raise ValueError("split_proportionally needs a non-negative total and positive weights")
    parts = [total * w // whole for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in remainders[: total - sum(parts)]:
        parts[i] += 1
    return parts
