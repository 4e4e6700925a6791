"""Sealing: libsodium sealed boxes to the foundation's public key (PyNaCl).

A sealed value is text ``"<FoundationKey id>:<base64 of the sealed box>"`` (empty stays empty:
nothing to hide). Sealing needs only the active public key, so the web process that receives an
application can seal it and can never open it again; opening needs the private key, which only an
unlocked caseworker's request rebuilds (zbor.cases.keys.private_key). A sealed file is the same
in bytes: ``b"<id>:" + sealed box``.

Each model says which of its columns are sealed (``register_sealed`` in the AppConfig), so that a
rotation of the foundation key (zbor.cases.keys.rotate) re-seals all of them; the columns sealed to
an applicant's own key (zbor.cases.applicant_key) are declared apart and never re-sealed.

The applicant's secret phrase is not sealed but hashed (``hash_phrase``): checking it needs no key.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from nacl.exceptions import CryptoError, InvalidkeyError
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.pwhash import argon2id


class NoFoundationKey(Exception):
    """No active foundation key: ``zbor casework_keys init USER`` has not been run."""


class Unreadable(Exception):
    """A sealed value that this private key does not open (another key, or damaged)."""


#: Argon2id limits by name, for ZBOR_CASEWORKER_KDF and ZBOR_CASE_PHRASE_KDF. "min" is for tests.
KDF_LIMITS = {
    "min": (argon2id.OPSLIMIT_MIN, argon2id.MEMLIMIT_MIN),
    "interactive": (argon2id.OPSLIMIT_INTERACTIVE, argon2id.MEMLIMIT_INTERACTIVE),
    "moderate": (argon2id.OPSLIMIT_MODERATE, argon2id.MEMLIMIT_MODERATE),
    "sensitive": (argon2id.OPSLIMIT_SENSITIVE, argon2id.MEMLIMIT_SENSITIVE),
}


def kdf_limits(name: str) -> tuple[int, int]:
    """(opslimit, memlimit) for a limits name; unknown names are a configuration error."""
    from django.core.exceptions import ImproperlyConfigured

    try:
        return KDF_LIMITS[name]
    except KeyError:
        raise ImproperlyConfigured(f"Argon2id limits must be one of {', '.join(KDF_LIMITS)} (got {name!r}).") from None


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def active_key():
    """The active FoundationKey row (public half only)."""
    from .models import FoundationKey

    key = FoundationKey.objects.filter(active=True).first()
    if key is None:
        raise NoFoundationKey("No foundation key yet: run `zbor casework_keys init USER`.")
    return key


def _box_for(key) -> SealedBox:
    return SealedBox(PublicKey(unb64(key.public_key)))


def seal(data: bytes) -> str:
    """``data`` sealed to the active foundation key, as ``"<key id>:<base64>"``."""
    key = active_key()
    return f"{key.pk}:{b64(_box_for(key).encrypt(data))}"


def seal_text(text: str) -> str:
    """A text sealed; empty stays empty."""
    return seal(text.encode()) if text else ""


def seal_json(obj: Any) -> str:
    return seal(json.dumps(obj, ensure_ascii=False, sort_keys=True).encode())


def sealed_key_id(blob: str) -> int | None:
    """The FoundationKey id a sealed value is sealed to (None for an empty value)."""
    if not blob:
        return None
    head, _sep, _rest = blob.partition(":")
    return int(head)


def unseal(blob: str, private_key: PrivateKey) -> bytes:
    """The plaintext of a sealed value; ``Unreadable`` if this key does not open it."""
    _head, sep, body = blob.partition(":")
    try:
        if not sep:
            raise ValueError
        return SealedBox(private_key).decrypt(unb64(body))
    except (CryptoError, ValueError):
        raise Unreadable("this key does not open this sealed value") from None


def unseal_text(blob: str, private_key: PrivateKey) -> str:
    return unseal(blob, private_key).decode() if blob else ""


def unseal_json(blob: str, private_key: PrivateKey) -> Any:
    return json.loads(unseal(blob, private_key))


def seal_file(data: bytes) -> bytes:
    """File contents sealed to the active key: ``b"<key id>:" + sealed box`` (no base64)."""
    key = active_key()
    return f"{key.pk}:".encode() + _box_for(key).encrypt(data)


def unseal_file(blob: bytes, private_key: PrivateKey) -> bytes:
    _head, sep, body = blob.partition(b":")
    try:
        if not sep:
            raise ValueError
        return SealedBox(private_key).decrypt(body)
    except (CryptoError, ValueError):
        raise Unreadable("this key does not open this sealed file") from None


def reseal(blob: str, old: PrivateKey) -> str:
    """A sealed value opened with ``old`` and sealed again to the active key; empty stays empty."""
    return seal(unseal(blob, old)) if blob else ""


# --- the applicant's secret phrase -------------------------------------------------------------


def hash_phrase(phrase: str) -> str:
    """An Argon2id hash (libsodium's own format, salt and limits inside) of the phrase."""
    ops, mem = kdf_limits(settings.ZBOR_CASE_PHRASE_KDF)
    return argon2id.str(normalise_phrase(phrase).encode(), opslimit=ops, memlimit=mem).decode("ascii")


def check_phrase(phrase_hash: str, phrase: str) -> bool:
    if not phrase_hash:
        return False
    try:
        return argon2id.verify(phrase_hash.encode("ascii"), normalise_phrase(phrase).encode())
    except (CryptoError, InvalidkeyError, ValueError):
        return False


def normalise_phrase(phrase: str) -> str:
    """Words separated by single spaces, lower case: a phrase typed back with other spacing or
    capitals still matches."""
    return " ".join(phrase.lower().split())


# --- what is sealed ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sealed:
    """A model's sealed text columns and, optionally, a column naming a sealed private file.

    ``fields`` and ``file_field`` are sealed to the foundation key: a rotation re-seals them.
    ``applicant_fields`` are sealed to the applicant's own key (zbor.cases.applicant_key): the
    foundation's private key cannot open them, so a rotation must leave them alone; they are
    listed so that what holds a person's words is declared in one place (the purge and its tests
    go by it)."""

    model: Any
    fields: tuple[str, ...] = ()
    file_field: str = ""
    applicant_fields: tuple[str, ...] = ()


_SEALED: dict[str, Sealed] = {}


def register_sealed(
    model, *, fields: tuple[str, ...] = (), file_field: str = "", applicant_fields: tuple[str, ...] = ()
) -> None:
    """Declare what ``model`` seals (from an AppConfig.ready; twice is harmless)."""
    _SEALED[model._meta.label_lower] = Sealed(model, tuple(fields), file_field, tuple(applicant_fields))


def registered_sealed() -> list[Sealed]:
    return [_SEALED[label] for label in sorted(_SEALED)]
