"""Bank transfers: short, typo-resistant payment references, and the bank as a payment method.

A reference looks like ``ZB4K7Q-9MX2T``: "ZB", eight Crockford base-32 symbols (no I, L, O,
U), and a check symbol: the position-weighted sum of the symbols mod 31, which catches any one
wrong symbol and any swap of two neighbours (except between "0" and "Z"). Every character is
allowed in a SEPA payment reference. Reading one back forgives case, spaces, hyphens, O for
0 and I or L for 1.

Statements are read in ``zbor.payments.statements`` (their names are kept here for callers).
"""

from __future__ import annotations

import re

from django.utils.crypto import get_random_string

from .base import (
    CheckoutRequest,
    CheckoutStart,
    HeldInZbor,
    PaymentEvent,
    RefundRefused,
    RefundRequest,
    RefundResult,
    SubscriptionRequest,
)
from .statements import (
    MAX_STATEMENT_BYTES,
    StatementError,
    StatementLine,
    parse_camt053,
    parse_csv,
    parse_statement,
)

__all__ = [
    "MAX_STATEMENT_BYTES",
    "BankProvider",
    "StatementError",
    "StatementLine",
    "check_symbol",
    "format_reference",
    "near_references",
    "new_reference",
    "parse_camt053",
    "parse_csv",
    "parse_statement",
    "references_in",
]

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX = "ZB"
BODY_LENGTH = 8
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_./]")
# "ZB", then the body and the check symbol, once separators are gone; at every position, so
# that a reference right after a word starting with "ZB" ("Zbor" reads "ZB0R") is found too.
_CANDIDATE = re.compile(rf"(?=ZB([0-9A-Z]{{{BODY_LENGTH + 1}}}))")


def check_symbol(body: str) -> str:
    return ALPHABET[sum((i + 1) * ALPHABET.index(symbol) for i, symbol in enumerate(body)) % 31]


def new_reference() -> str:
    """A fresh reference, e.g. ZB4K7Q-9MX2T (formatted for people; stored without the hyphen)."""
    body = get_random_string(BODY_LENGTH, ALPHABET)
    return f"{PREFIX}{body}{check_symbol(body)}"


def format_reference(reference: str) -> str:
    return f"{reference[:6]}-{reference[6:]}"


def _valid(candidate: str) -> bool:
    body, check = candidate[:-1], candidate[-1]
    return all(c in ALPHABET for c in candidate) and check_symbol(body) == check


def references_in(text: str) -> list[str]:
    """Valid references found in a remittance text, as stored (``ZB`` + body + check)."""
    squeezed = _SEPARATORS.sub("", text.upper()).translate(_READ_AS)
    return [PREFIX + m for m in _CANDIDATE.findall(squeezed) if _valid(m)]


def near_references(text: str) -> list[str]:
    """References one typing slip away from what the text holds (one wrong symbol or one swap).

    Only used when ``references_in`` finds nothing; the caller keeps a candidate only if it is
    the single pending reference among them.
    """
    squeezed = _SEPARATORS.sub("", text.upper()).translate(_READ_AS)
    found = set()
    for m in _CANDIDATE.findall(squeezed):
        for i in range(len(m)):
            for symbol in ALPHABET:
                fixed = m[:i] + symbol + m[i + 1 :]
                if fixed != m and _valid(fixed):
                    found.add(PREFIX + fixed)
        for i in range(len(m) - 1):
            swapped = m[:i] + m[i + 1] + m[i] + m[i + 2 :]
            if swapped != m and _valid(swapped):
                found.add(PREFIX + swapped)
    return sorted(found)


class BankProvider(HeldInZbor):
    """Bank transfer: the donor is shown the account and a reference; a statement confirms it.
    A standing order lives at the donor's bank: the donor changes or ends it there."""

    name = "bank"
    redirects = False
    local_checkout = True
    needs_challenge = False
    checkout_origins: tuple[str, ...] = ()
    #: The foundation sends the money back by hand; Zbor books what staff approve.
    refunds_at_provider = False
    #: Monthly gifts as a standing order the donor sets up at their bank, with one permanent
    #: reference; the statement import matches each month's transfer to it.
    monthly = True

    def start_checkout(self, request: CheckoutRequest) -> CheckoutStart:
        return CheckoutStart(redirect_url="", provider_reference=new_reference())

    def start_subscription(self, request: SubscriptionRequest) -> CheckoutStart:
        return CheckoutStart(redirect_url="", provider_reference=new_reference())

    def parse_webhook(self, body: bytes, headers: dict[str, str]) -> PaymentEvent | None:
        return None

    def refund(self, request: RefundRequest) -> RefundResult:
        raise RefundRefused("refunded by hand: there is no provider to ask")
