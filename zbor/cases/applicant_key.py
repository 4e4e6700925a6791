"""The applicant's own key pair: how the foundation writes to a person in words only they read.

A caseworker's question may carry a free text ("please read the message below"). Sealed to the
foundation key (``CaseMessage.body``), only caseworkers can read it; stored in plain, a seized
server would hold words about a person at risk. So each case has a key pair of its own, made at
submission (``give_key``):

- the public half is plain (``Case.applicant_public_key``): sealing a text to the applicant, like
  sealing to the foundation, needs no secret (``seal_for``), and the caseworker's free text is
  stored a second time as ``CaseMessage.body_for_applicant``;
- the private half exists only wrapped (``Case.applicant_key_wrapped``): a SecretBox under
  ``argon2id.kdf`` of the case's secret phrase, with its own random salt and the limits of
  ``ZBOR_CASE_PHRASE_KDF`` stored beside it. The phrase is never stored; its hash
  (``Case.phrase_hash``) already lets whoever holds the database try phrases offline at the same
  cost, so the wrapped key adds no new way in.

At sign-in on the status page (zbor/site/apply_status.py) the phrase unwraps the key
(``open_key``); from then on the applicant's browser carries it, inside the signed status cookie
(``to_cookie`` / ``from_cookie``), and each page opens the texts with it (``open_for``). Nothing of
the key or of an opened text is written to the database, the cache, a session or a log.

The rotation of the foundation key leaves ``body_for_applicant`` alone (it is not sealed to that
key: ``register_sealed(..., applicant_fields=...)``); the purge deletes it with the message and
blanks the key fields. docs/decisions/0016-sealed-applications.md, "Messages to the applicant".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.pwhash import argon2id
from nacl.secret import SecretBox
from nacl.utils import random as random_bytes

from .phrases import tidy_phrase
from .sealing import Unreadable, b64, kdf_limits, normalise_phrase, unb64

if TYPE_CHECKING:
    from .models import Case

#: What a value sealed to the applicant starts with (a foundation-sealed one starts with a key id).
PREFIX = "applicant:"

#: The case fields that hold the applicant's key, and their blank values (``forget_key``).
BLANK = {
    "applicant_public_key": "",
    "applicant_key_wrapped": "",
    "applicant_key_salt": "",
    "applicant_key_opslimit": 0,
    "applicant_key_memlimit": 0,
}
FIELDS = tuple(BLANK)


class NoApplicantKey(Exception):
    """The case was received before applicants had a key of their own (or was purged)."""


def _derive(phrase: str, salt: bytes, ops: int, mem: int) -> bytes:
    secret = normalise_phrase(tidy_phrase(phrase)).encode()
    return argon2id.kdf(SecretBox.KEY_SIZE, secret, salt, opslimit=ops, memlimit=mem)


def give_key(case: Case, phrase: str) -> None:
    """A fresh key pair for ``case`` (not saved): the public half plain, the private half wrapped
    under ``phrase``. Called once, at submission, while the phrase still exists."""
    key = PrivateKey.generate()
    ops, mem = kdf_limits(settings.ZBOR_CASE_PHRASE_KDF)
    salt = random_bytes(argon2id.SALTBYTES)
    case.applicant_public_key = b64(bytes(key.public_key))
    case.applicant_key_wrapped = b64(SecretBox(_derive(phrase, salt, ops, mem)).encrypt(bytes(key)))
    case.applicant_key_salt = b64(salt)
    case.applicant_key_opslimit = ops
    case.applicant_key_memlimit = mem


def forget_key(case: Case) -> None:
    """Blank the case's key fields (not saved): the purge's part."""
    for name, blank in BLANK.items():
        setattr(case, name, blank)


def has_key(case: Case) -> bool:
    return bool(case.applicant_public_key and case.applicant_key_wrapped)


def _matches(case: Case, key: PrivateKey) -> bool:
    return b64(bytes(key.public_key)) == case.applicant_public_key


def open_key(case: Case, phrase: str) -> PrivateKey | None:
    """The applicant's private key, unwrapped with their phrase; None for a case without one (or
    a phrase that does not open it: the caller has checked the phrase already)."""
    if not has_key(case):
        return None
    try:
        wrapping = _derive(
            phrase, unb64(case.applicant_key_salt), case.applicant_key_opslimit, case.applicant_key_memlimit
        )
        key = PrivateKey(SecretBox(wrapping).decrypt(unb64(case.applicant_key_wrapped)))
    except (CryptoError, ValueError, TypeError):
        return None
    return key if _matches(case, key) else None


def seal_for(case: Case, text: str) -> str:
    """``text`` sealed to the applicant's public key, as ``"applicant:<base64>"``; empty stays
    empty. ``NoApplicantKey`` if the case has none."""
    if not text:
        return ""
    if not case.applicant_public_key:
        raise NoApplicantKey
    box = SealedBox(PublicKey(unb64(case.applicant_public_key)))
    return PREFIX + b64(box.encrypt(text.encode()))


def open_for(blob: str, key: PrivateKey) -> str:
    """The text of a value sealed with ``seal_for``; ``Unreadable`` if this key does not open it."""
    if not blob:
        return ""
    try:
        if not blob.startswith(PREFIX):
            raise ValueError
        return SealedBox(key).decrypt(unb64(blob.removeprefix(PREFIX))).decode()
    except (CryptoError, ValueError):
        raise Unreadable("this key does not open this value") from None


# --- in the status cookie --------------------------------------------------------------------


def to_cookie(key: PrivateKey) -> str:
    """The private key as it travels in the applicant's signed status cookie (64 hex digits)."""
    return bytes(key).hex()


def from_cookie(case: Case, text: str) -> PrivateKey | None:
    """The key a status cookie carried, if it is this case's; None otherwise."""
    if not text or not has_key(case):
        return None
    try:
        key = PrivateKey(bytes.fromhex(text))
    except (ValueError, TypeError, CryptoError):
        return None
    return key if _matches(case, key) else None
