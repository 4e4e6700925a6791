"""Fuzzing typed amounts and the donate form: an amount is a positive int of minor units or a
ValidationError and round-trips; the donate form never makes a 500 and a refused form creates no
donation. Each database example runs in a savepoint that is rolled back."""

from __future__ import annotations

import re
from fractions import Fraction

from django.core.exceptions import ValidationError
from hypothesis import event, given
from hypothesis import strategies as st

from tests.fuzzing import AMOUNT_TEXT, CURRENCIES, _form_fields, fuzz, rolled_back, text
from zbor.forms import MAX_TYPED_LENGTH, AmountField
from zbor.money import InvalidAmount, Money, format_money, minor_digits, parse_amount


def _plain_decimal_digits(minor: int, currency: str) -> str:
    """A minor amount written in major units, e.g. 2550 EUR -> "25.50", exactly."""
    digits = minor_digits(currency)
    whole, fraction = divmod(minor, 10**digits)
    return f"{whole}.{fraction:0{digits}d}" if digits else str(whole)


@fuzz(600)
@given(AMOUNT_TEXT, st.sampled_from(CURRENCIES))
def test_a_typed_amount_is_a_positive_whole_number_of_minor_units_or_a_message(typed, currency):
    try:
        minor = parse_amount(typed, currency)
    except InvalidAmount as exc:
        assert str(exc)
        return
    assert type(minor) is int and minor > 0
    # Consistent with the currency's digits: written back exactly, it reads as the same amount;
    # and a plainly written amount is exactly its value in minor units.
    assert parse_amount(_plain_decimal_digits(minor, currency), currency) == minor
    Money(minor, currency)
    plain = typed.strip()
    if re.fullmatch(r"\+?[0-9]+(\.[0-9]{0,3})?", plain, re.ASCII) and not re.fullmatch(
        r"\+?[0-9]{1,3}\.[0-9]{3}", plain
    ):
        assert minor == Fraction(plain.lstrip("+")) * 10 ** minor_digits(currency)


@fuzz(400)
@given(
    st.one_of(AMOUNT_TEXT, text(200), st.none()),
    st.sampled_from(CURRENCIES),
    st.one_of(st.none(), st.integers(min_value=1, max_value=10**15)),
    st.booleans(),
)
def test_the_amount_field_cleans_to_minor_units_or_raises_a_validation_error(typed, currency, max_minor, required):
    field = AmountField(currency=currency, max_minor=max_minor, required=required)
    try:
        minor = field.clean(typed)
    except ValidationError as exc:
        assert exc.messages and all(exc.messages)
        return
    if minor is None:
        assert not required
        return
    assert type(minor) is int and minor > 0
    assert max_minor is None or minor <= max_minor
    assert len(str(typed)) <= MAX_TYPED_LENGTH


@fuzz(300)
@given(st.integers(min_value=1, max_value=10**15), st.sampled_from(CURRENCIES))
def test_an_amount_shown_in_the_field_reads_back_as_itself(minor, currency):
    field = AmountField(currency=currency)
    shown = field.prepare_value(minor)
    assert field.clean(shown) == minor
    assert parse_amount(_plain_decimal_digits(minor, currency), currency) == minor


@fuzz(300)
@given(
    st.integers(min_value=1, max_value=10**13),
    st.sampled_from(["EUR", "PLN", "JPY", "BYN", "UAH", "USD"]),
    st.sampled_from(["en", "ru", "be", "pl"]),
)
def test_an_amount_as_the_site_shows_it_reads_back_as_itself(minor, currency, locale):
    # What a donor would copy from a page into the form, without its currency symbol. (Only for
    # currencies of at most two decimals: "KWD 1,000", a whole amount of a three-decimal
    # currency, is ambiguous on its own and parse_amount reads it as 1.000.)
    shown = format_money(Money(minor, currency), locale)
    number = re.sub(r"[^\d,.\s\u00a0\u202f'-]", "", shown).strip()
    assert parse_amount(number, currency) == minor, (shown, number)


@fuzz(80)
@given(st.data())
def test_the_donate_form_never_fails_and_a_refused_form_creates_nothing(client, donate_world, data):
    from zbor.donations.models import Donation, DonationStatus
    from zbor.donations.services import max_donation
    from zbor.ledger.models import Transfer

    slug = data.draw(st.sampled_from(sorted(donate_world)))
    campaign = donate_world[slug]
    needs = [str(pk) for pk in campaign.needs.values_list("pk", flat=True)]
    fields = data.draw(_form_fields(needs))
    with rolled_back():
        before = set(Donation.objects.values_list("pk", flat=True)), Transfer.objects.count()
        response = client.post(f"/en/campaigns/{slug}/donate/", fields)
        assert response.status_code in (302, 400, 429), response.status_code
        event(f"donate form: {response.status_code}")
        created = Donation.objects.exclude(pk__in=before[0])
        assert Transfer.objects.count() == before[1]  # a pledge moves no money
        if response.status_code != 302:
            assert not created.exists()
        else:
            [donation] = created
            assert donation.provider == "bank" and donation.status == DonationStatus.PENDING
            assert donation.currency == campaign.currency and 0 < donation.amount <= max_donation(campaign.currency)
