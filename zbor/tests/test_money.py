"""Money is integer minor units, formatted per locale with CLDR data."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zbor.money import CurrencyMismatch, InvalidAmount, Money, format_money, parse_amount

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        (200000, "EUR", "en", "€2,000"),
        (68300, "EUR", "en", "€683"),
        (1250, "EUR", "en", "€12.50"),
        (200000, "EUR", "ru", f"2{NBSP}000{NBSP}€"),
        (68300, "EUR", "ru", f"683{NBSP}€"),
        (1250, "EUR", "ru", f"12,50{NBSP}€"),
        (200000, "EUR", "be", f"2{NBSP}000{NBSP}€"),
        (200000, "EUR", "pl", f"2{NBSP}000{NBSP}€"),
        (310000, "PLN", "pl", f"3{NBSP}100{NBSP}zł"),
        (5000, "JPY", "en", "¥5,000"),
        (1234, "KWD", "en", "KWD\u00a01.234"),
    ],
)
def test_format_money_follows_cldr_for_each_locale(amount, currency, locale, expected):
    assert format_money(Money(amount, currency), locale) == expected


def test_money_refuses_floats_and_unknown_currencies():
    with pytest.raises(TypeError):
        Money(10.5, "EUR")
    with pytest.raises(ValueError):
        Money(100, "XXQ")


def test_money_arithmetic_refuses_mixed_currencies():
    assert Money(100, "EUR") + Money(50, "EUR") == Money(150, "EUR")
    with pytest.raises(CurrencyMismatch):
        Money(100, "EUR") + Money(50, "PLN")


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("25", "EUR", 2500),
        ("25.5", "EUR", 2550),
        ("25,50", "EUR", 2550),
        (" 1 000 ", "EUR", 100000),
        ("500", "JPY", 500),
        ("1,000", "EUR", 100000),
        ("2.000", "EUR", 200000),
        ("1,000.50", "EUR", 100050),
        ("1.000,50", "EUR", 100050),
        ("1\u00a0234,5", "PLN", 123450),
        ("1,234,567", "EUR", 123456700),
        ("1.234", "KWD", 1234),
    ],
)
def test_parse_amount_accepts_what_people_type(text, currency, minor):
    assert parse_amount(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("", "EUR", "Enter an amount."),
        ("abc", "EUR", "Enter a number"),
        ("0", "EUR", "greater than zero"),
        ("-5", "EUR", "greater than zero"),
        ("1.0055", "EUR", "at most 2 decimal places"),
        ("1.5", "JPY", "at most 0 decimal places"),
        ("1.2.3", "EUR", "Enter a number"),
        ("1,00,0", "EUR", "Enter a number"),
        ("1.000.5", "EUR", "Enter a number"),
        ("12,345.6.7", "EUR", "Enter a number"),
        ("NaN", "EUR", "Enter a number"),
        ("Infinity", "EUR", "Enter a number"),
    ],
)
def test_parse_amount_refuses_bad_input_with_a_message(text, currency, message):
    with pytest.raises(InvalidAmount, match=message):
        parse_amount(text, currency)


@given(st.integers(min_value=1, max_value=10**13), st.sampled_from(["EUR", "PLN", "JPY", "KWD", "BYN"]))
def test_parse_amount_reads_back_every_amount_it_could_show(minor, currency):
    assert parse_amount(str(Money(minor, currency).as_decimal()), currency) == minor


from zbor.money import split_proportionally  # noqa: E402


def test_split_proportionally_examples():
    assert split_proportionally(100, [1, 1, 1]) == [34, 33, 33]
    assert split_proportionally(1000, [50000, 18300]) == [732, 268]
    assert split_proportionally(0, [5, 5]) == [0, 0]


@given(
    st.integers(min_value=0, max_value=10**9),
    st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=6),
)
def test_split_proportionally_loses_and_makes_no_cent(total, weights):
    total = min(total, sum(weights))
    parts = split_proportionally(total, weights)
    assert sum(parts) == total
    assert all(0 <= part <= weight for part, weight in zip(parts, weights, strict=True))
