"""Reading Stripe's objects: ids, amounts and currencies checked, never guessed; a payment's
charge and fee. Shared by the one-off (``stripe``) and the monthly (``stripe_monthly``) paths."""

from __future__ import annotations

import re

import stripe

from .base import ProviderUnavailable

# Checkout's own languages; Belarusian is not among them, so Stripe picks from the browser.
CHECKOUT_LOCALES = {"en": "en", "ru": "ru", "pl": "pl"}

#: Stripe's ids ("evt_…", "cs_…", "pi_…"): printable ASCII without spaces, as long as a column takes.
_ID = re.compile(r"[!-~]{1,255}")
#: More than any amount Stripe reports (its own limit is eight digits for most currencies).
MAX_AMOUNT = 10**12


class _Malformed(ValueError):
    """A verified event lacks a field Zbor reads, or has it in another form."""


def _id(value, *, optional: bool = False) -> str:
    if optional and value in (None, ""):
        return ""
    if isinstance(value, str) and _ID.fullmatch(value):
        return value
    raise _Malformed("an id is missing or malformed")


def _amount(value) -> int:
    # An int of minor units, never a bool, a float or a string: money is never guessed.
    if type(value) is int and 0 <= value <= MAX_AMOUNT:
        return value
    raise _Malformed("an amount is missing or malformed")


def _currency(value) -> str:
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z]{3}", value):
        return value.upper()
    raise _Malformed("a currency is missing or malformed")


def charge_and_fee(client: stripe.StripeClient, payment_intent: str, currency: str) -> tuple[str, int]:
    """The charge of a PaymentIntent and Stripe's fee on it (from its balance transaction, when
    that is in ``currency``; else 0: a fee in another currency is not booked against this one)."""
    try:
        intent = client.v1.payment_intents.retrieve(payment_intent, {"expand": ["latest_charge.balance_transaction"]})
    except stripe.StripeError as exc:
        raise ProviderUnavailable(f"Stripe did not return the payment: {type(exc).__name__}") from exc
    fee, charge_id = 0, ""
    charge = getattr(intent, "latest_charge", None)
    if charge and not isinstance(charge, str):
        charge_id = charge.id
        balance = getattr(charge, "balance_transaction", None)
        if balance and not isinstance(balance, str) and getattr(balance, "currency", "").upper() == currency:
            fee = int(balance.fee)
    return charge_id, fee
