"""The proof of a payout paid in crypto: the network, the amount in the coin and the transaction.

A crypto transfer leaves no receipt to upload: its transaction id is the proof, checkable by
anyone who has it on the public chain. That is exactly why it is private: with the id (or the
receiving address) anyone can follow the money to the beneficiary's wallet and from there to
whatever else that wallet did. So the id and the address are encrypted together
(``Payout.crypto_proof_secret``), read only with ``view_payout_recipient`` and every read
audited, and never reach a public page, the API, an export or a log.

What finance types is checked strictly, per network, before anything is written:

- bitcoin (on-chain): 64 hex digits (the txid), at most 8 decimals of BTC;
- lightning: the payment hash or preimage, 64 hex digits, at most 8 decimals of BTC;
- usdt_tron (TRC-20): the transaction id, 64 hex digits, at most 6 decimals of USDT;
- usdt_ethereum (ERC-20): the transaction hash, ``0x`` and 64 hex digits, at most 6 decimals.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zbor.crypto import decrypt_text, encrypt_text


class Network(models.TextChoices):
    BITCOIN = "bitcoin", gettext_lazy("Bitcoin (on-chain)")
    LIGHTNING = "lightning", gettext_lazy("Bitcoin Lightning")
    USDT_TRON = "usdt_tron", gettext_lazy("USDT on Tron (TRC-20)")
    USDT_ETHEREUM = "usdt_ethereum", gettext_lazy("USDT on Ethereum (ERC-20)")


@dataclass(frozen=True)
class _Rules:
    coin: str
    decimals: int
    txid: re.Pattern[str]
    address: re.Pattern[str]


_HEX64 = re.compile(r"[0-9a-f]{64}")
_BASE58 = "1-9A-HJ-NP-Za-km-z"
RULES: dict[str, _Rules] = {
    Network.BITCOIN: _Rules(
        "BTC", 8, _HEX64, re.compile(rf"(bc1|tb1|bcrt1)[a-z0-9]{{8,87}}|[13mn2][{_BASE58}]{{25,34}}", re.I)
    ),
    # No address on Lightning: the "address" is the invoice, an LNURL or a lightning address.
    Network.LIGHTNING: _Rules("BTC", 8, _HEX64, re.compile(r"[\x21-\x7e]{1,2000}")),
    Network.USDT_TRON: _Rules("USDT", 6, _HEX64, re.compile(rf"T[{_BASE58}]{{33}}")),
    Network.USDT_ETHEREUM: _Rules("USDT", 6, re.compile(r"0x[0-9a-f]{64}"), re.compile(r"0x[0-9a-fA-F]{40}")),
}

#: At most this many digits before the decimal point: no real payout is a trillion coins.
MAX_WHOLE_DIGITS = 12
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")  # ASCII digits only: \d would take any script's digits


def coin_of(network: str) -> str:
    return RULES[network].coin if network in RULES else ""


def clean_network(network: str) -> str:
    if network not in RULES:
        raise ValidationError(_("Choose the network the crypto was sent on."), code="network")
    return network


def clean_coin_amount(network: str, text: str) -> str:
    """The amount in the coin as a plain decimal string ("0.00412", "250.5"): positive, digits
    and one decimal point (a comma is read as one), at most the coin's decimals."""
    rules = RULES[clean_network(network)]
    typed = (text or "").strip().replace(",", ".")
    example = {"BTC": "0.00412", "USDT": "250.50"}[rules.coin]
    if not _DECIMAL.fullmatch(typed) or len(typed.split(".")[0].lstrip("0")) > MAX_WHOLE_DIGITS:
        raise ValidationError(
            _("Enter the amount in %(coin)s as a number, like %(example)s.")
            % {"coin": rules.coin, "example": example},
            code="coin_amount",
        )
    try:
        value = Decimal(typed)
    except InvalidOperation:  # pragma: no cover - the pattern admits only what Decimal reads
        raise ValidationError(_("Enter the amount as a number."), code="coin_amount") from None
    if value <= 0:
        raise ValidationError(_("Enter an amount greater than zero."), code="coin_amount")
    decimals = len(typed.split(".")[1]) if "." in typed else 0
    if decimals > rules.decimals:
        raise ValidationError(
            _("%(coin)s has at most %(places)s decimals on this network.")
            % {"coin": rules.coin, "places": rules.decimals},
            code="coin_amount",
        )
    return format(value, "f")


_TXID_HINTS: dict[str, Any] = {
    Network.BITCOIN: gettext_lazy("A bitcoin transaction id is 64 characters 0-9 and a-f."),
    Network.LIGHTNING: gettext_lazy("A Lightning payment hash or preimage is 64 characters 0-9 and a-f."),
    Network.USDT_TRON: gettext_lazy("A Tron transaction id is 64 characters 0-9 and a-f, without 0x."),
    Network.USDT_ETHEREUM: gettext_lazy("An Ethereum transaction hash is 0x followed by 64 characters 0-9 and a-f."),
}


def clean_transaction_id(network: str, text: str) -> str:
    """The transaction id as the network writes it, in lower case."""
    rules = RULES[clean_network(network)]
    typed = (text or "").strip().lower()
    if not rules.txid.fullmatch(typed):
        raise ValidationError(str(_TXID_HINTS[network]), code="transaction_id")
    return typed


def clean_address(network: str, text: str) -> str:
    """The receiving address (optional: empty stays empty), as typed, without spaces around."""
    rules = RULES[clean_network(network)]
    typed = (text or "").strip()
    if typed and not rules.address.fullmatch(typed):
        raise ValidationError(
            _("This does not look like a receiving address on %(network)s.") % {"network": Network(network).label},
            code="address",
        )
    return typed


@dataclass(frozen=True)
class CryptoProof:
    """What finance records when a crypto payout was sent. ``cleaned`` checks every part."""

    network: str
    coin_amount: str
    transaction_id: str
    address: str = ""

    def cleaned(self) -> CryptoProof:
        """The same proof, normalised; ValidationError (with every field's error) when any part is wrong."""
        errors: dict[str, list[ValidationError]] = {}
        parts: dict[str, str] = {}
        try:
            clean_network(self.network)
        except ValidationError as exc:
            raise ValidationError({"network": [exc]}) from None
        for field, clean in (
            ("coin_amount", clean_coin_amount),
            ("transaction_id", clean_transaction_id),
            ("address", clean_address),
        ):
            try:
                parts[field] = clean(self.network, getattr(self, field))
            except ValidationError as exc:
                errors[field] = [exc]
        if errors:
            raise ValidationError(errors)
        return CryptoProof(network=self.network, **parts)

    @property
    def coin(self) -> str:
        return coin_of(self.network)

    def secret(self) -> str:
        """The transaction id and address, encrypted together (``Payout.crypto_proof_secret``)."""
        return encrypt_text(json.dumps({"transaction_id": self.transaction_id, "address": self.address}))


@dataclass(frozen=True)
class SentCrypto:
    """A payout's private crypto proof as read back (``services.read_crypto_proof``)."""

    transaction_id: str
    address: str


def open_secret(secret: str) -> SentCrypto | None:
    """The decrypted proof, or None when it was destroyed with the beneficiary's private data."""
    if not secret:
        return None
    data = json.loads(decrypt_text(secret))
    return SentCrypto(transaction_id=data["transaction_id"], address=data.get("address", ""))
