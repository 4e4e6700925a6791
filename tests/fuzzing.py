"""What the fuzz tests (tests/test_fuzz*.py) share: hypothesis settings, hostile text, typed
amounts, the donate form's fields, and a savepoint each example's database changes are undone in."""

from __future__ import annotations

from contextlib import contextmanager

from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st


def fuzz(examples: int, **kwargs):
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
        **kwargs,
    )


#: Any text a browser, a staff member or a bank could send (lone surrogates cannot be sent as UTF-8).
TEXT = st.characters(blacklist_categories=("Cs",))


def text(max_size: int = 40):
    return st.text(TEXT, max_size=max_size)


@contextmanager
def rolled_back():
    """One example's database changes, undone at the end whatever happened."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


CURRENCIES = ["EUR", "PLN", "JPY", "KWD", "BYN", "UAH", "CLF"]
AMOUNT_TEXT = st.one_of(
    text(40),
    st.from_regex(r"\A[-+]?[0-9 ,.'\u00a0]{0,30}\Z"),
    st.from_regex(r"\A[-+]?[0-9]{0,30}([.,][0-9]{0,6})?([eE][-+]?[0-9]{1,12})?\Z"),
    st.sampled_from(
        [
            "25",
            "25.50",
            "25,5",
            "1 000",
            "1,000.50",
            "1.000,50",
            "0",
            "-5",
            "+5",
            "0.001",
            "1e3",
            "1e999990",
            "1e999999",
            "1E+999999999",
            "1e-999999999",
            "-1e999999",
            "NaN",
            "sNaN",
            "-sNaN",
            "Infinity",
            "-Infinity",
            "1_000",
            "١٢٣",
            "１２３",
            "9" * 24,
            "9" * 25,
            "9" * 60,
            "0." + "0" * 30 + "1",
            "1" + "0" * 27 + ".5",
            ".5",
            "5.",
            ".",
            ",",
            "-",
            "--5",
            "1,2,3",
            "1.2.3",
            "1,000,000.00",
            "1.000.000,00",
            "\u00a0",
            "\x00",
            "25\x00",
            "€25",
            "25 €",
        ]
    ),
)


def _form_fields(needs: list[str]):
    everything = st.one_of(text(60), st.just(""))
    good_amount = st.sampled_from(["25", "10.5", "7,50", "100", "1 000", "9999.99"])
    good_key = st.uuids().map(lambda u: u.hex)
    return st.fixed_dictionaries(
        {
            "amount": st.one_of(
                good_amount,
                good_amount,
                AMOUNT_TEXT,
                st.sampled_from(["10000.01", "0.001", "1e999990", "sNaN", "99999999999999999999999"]),
            ),
            "method": st.one_of(st.just("bank"), st.just("bank"), st.just("bank"), text(10)),
            "idempotency_key": st.one_of(good_key, good_key, text(70)),
        },
        optional={
            "preset": st.one_of(st.sampled_from(["1000", "2500", "5000", "25", "-1", "1e999"]), everything),
            "need": st.one_of(st.sampled_from(needs + ["999999", "-1", "0", "1e3"]), everything),
            "public_name": st.one_of(everything, text(50)),
            "email": st.one_of(st.sampled_from(["a@b.example", "not-an-email", "a@b", "\x00@x.example"]), everything),
            "message": st.one_of(everything, st.text(TEXT, min_size=495, max_size=510)),
            "challenge": everything,
            "unexpected": everything,
        },
    )
