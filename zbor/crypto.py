"""Encryption at rest for private data: beneficiaries' identities, payout recipients, documents.

Keys come from ``ZBOR_ENCRYPTION_KEYS`` (comma-separated Fernet keys). The first key encrypts;
every key decrypts, so a new key can be put in front and ``zbor rotate_encryption_keys``
re-encrypts everything with it before the old one is removed. A seized database without the
keys yields only ciphertext.

Each app says what it encrypts (``register_encrypted`` in its AppConfig.ready): the key rotation
(zbor/accounts/keys.py) walks that list, so it needs to know no app, and an app that adds a
secret column adds one registration next to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class UnreadableSecret(Exception):
    """Ciphertext that none of the configured keys opens (a key was removed too early)."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("ZBOR_ENCRYPTION_KEYS is empty: private data cannot be stored.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError:
        raise ImproperlyConfigured(
            "ZBOR_ENCRYPTION_KEYS must hold Fernet keys (python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')."
        ) from None


def _current() -> MultiFernet:
    return _fernet(tuple(settings.ZBOR_ENCRYPTION_KEYS))


def encrypt_bytes(data: bytes) -> bytes:
    return _current().encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    try:
        return _current().decrypt(token)
    except InvalidToken:
        raise UnreadableSecret("none of ZBOR_ENCRYPTION_KEYS opens this data") from None


def encrypt_text(text: str) -> str:
    """Ciphertext for ``text``; empty stays empty (there is nothing to hide)."""
    return encrypt_bytes(text.encode()).decode() if text else ""


def decrypt_text(token: str) -> str:
    return decrypt_bytes(token.encode()).decode() if token else ""


def rotate(token: bytes) -> bytes:
    """The same plaintext encrypted with the first (newest) key."""
    try:
        return _current().rotate(token)
    except InvalidToken:
        raise UnreadableSecret("none of ZBOR_ENCRYPTION_KEYS opens this data") from None


def rotate_text(token: str) -> str:
    """``rotate`` for a text column; empty stays empty."""
    return rotate(token.encode()).decode() if token else ""


@dataclass(frozen=True)
class Encrypted:
    """A model whose rows hold private data: text columns encrypted with ``encrypt_text`` and,
    optionally, a column naming a private file (zbor.private_files). ``not_files`` are values
    of that column that name no file (empty, or a marker such as "purged")."""

    model: Any
    fields: tuple[str, ...] = ()
    file_field: str = ""
    not_files: tuple[str, ...] = ("",)


_ENCRYPTED: dict[str, Encrypted] = {}


def register_encrypted(model, *, fields: tuple[str, ...] = (), file_field: str = "", not_files=("",)) -> None:
    """Declare what ``model`` encrypts (call it from the app's AppConfig.ready; twice is harmless)."""
    _ENCRYPTED[model._meta.label_lower] = Encrypted(model, tuple(fields), file_field, tuple(not_files))


def registered_encrypted() -> list[Encrypted]:
    """Every registration, in a stable order (by model label)."""
    return [_ENCRYPTED[label] for label in sorted(_ENCRYPTED)]
