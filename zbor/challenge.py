"""A proof-of-work challenge before a card payment starts: ALTCHA's format, self-hosted.

The donate page carries a challenge; a small script (site/challenge.js, no third party) finds
the number whose SHA-256 with the salt gives the challenge and puts the answer in the form.
A person's browser spends about a second on it; a bot starting thousands of card payments
pays that for each one. The answer is checked here, without the script's help:

- the signature is an HMAC of the challenge with a key derived from SECRET_KEY, so a
  challenge cannot be made up;
- the salt carries an expiry the signature covers, so an old challenge is refused;
- each challenge is accepted once (remembered in the rate-limit counters until it expires).

This is ALTCHA's v1 payload (``base64(JSON{algorithm, challenge, number, salt, signature})``),
so ALTCHA's own libraries can create and solve these challenges; the tests check that.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass

from django.conf import settings
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from zbor import ratelimit

ALGORITHM = "SHA-256"


@dataclass(frozen=True)
class Challenge:
    algorithm: str
    challenge: str
    maxnumber: int
    salt: str
    signature: str

    def as_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))


def _key() -> bytes:
    return salted_hmac("zbor.challenge", "key", algorithm="sha256").digest()


def _sign(challenge: str) -> str:
    return hmac.new(_key(), challenge.encode(), hashlib.sha256).hexdigest()


def _digest(salt: str, number: int) -> str:
    return hashlib.sha256(f"{salt}{number}".encode()).hexdigest()


def create() -> Challenge:
    max_number = settings.ZBOR_CHALLENGE_MAX_NUMBER
    expires = int(time.time()) + settings.ZBOR_CHALLENGE_SECONDS
    salt = f"{secrets.token_hex(12)}?expires={expires}&"
    challenge = _digest(salt, secrets.randbelow(max_number + 1))
    return Challenge(ALGORITHM, challenge, max_number, salt, _sign(challenge))


def refusal() -> str:
    """What a donor whose browser sent no valid answer is told."""
    return _(
        "Card payments need a short automatic check that runs in your browser with "
        "JavaScript. Turn JavaScript on and try again, or choose a bank transfer, "
        "which works without it."
    )


def verify(payload: str) -> bool:
    """True once for a correct, unexpired answer to a challenge this site made."""
    try:
        data = json.loads(base64.b64decode(payload.encode("ascii"), validate=True))
        salt, number, challenge, signature = data["salt"], data["number"], data["challenge"], data["signature"]
        if data["algorithm"] != ALGORITHM or not all(isinstance(v, str) for v in (salt, challenge, signature)):
            return False
        number = int(number)
        expires = int(salt.rsplit("expires=", 1)[1].rstrip("&"))
    except (ValueError, TypeError, KeyError, IndexError, UnicodeError, binascii.Error, AttributeError):
        return False
    if not salt.endswith("&") or expires < time.time() or not 0 <= number <= settings.ZBOR_CHALLENGE_MAX_NUMBER:
        return False
    if not hmac.compare_digest(_digest(salt, number), challenge) or not hmac.compare_digest(
        _sign(challenge), signature
    ):
        return False
    # Once only: a solved challenge replayed by a bot counts as a second use.
    return ratelimit.first_use("challenge", challenge, settings.ZBOR_CHALLENGE_SECONDS)
