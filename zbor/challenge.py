"""A proof-of-work challenge before a card payment starts: ALTCHA's, made and checked by
ALTCHA's own library (``altcha``, its v1 format).

The donate page carries a challenge; a small script (site/challenge.js, no third party) finds
the number whose SHA-256 with the salt gives the challenge and puts the answer in the form.
A person's browser spends about a second on it; a bot starting thousands of card payments
pays that for each one. The answer is checked here, without the script's help:

- the signature is an HMAC of the challenge with a key derived from SECRET_KEY, so a
  challenge cannot be made up (the library signs and checks it);
- the salt carries an expiry the signature covers, so an old challenge is refused (the
  library again);
- each challenge is accepted once (Zbor's own part: remembered in the rate-limit counters
  until it expires), and only in the shape this site makes (SHA-256, a number within range).

The page carries the challenge as ``{algorithm, challenge, maxnumber, salt, signature}`` (the
names its script reads); the answer is ALTCHA's payload, ``base64(JSON{algorithm, challenge,
number, salt, signature})``.
"""

from __future__ import annotations

import base64
import datetime
import json
from dataclasses import dataclass
from typing import Literal, cast

import altcha
from django.conf import settings
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from zbor import ratelimit

ALGORITHM: Literal["SHA-256"] = "SHA-256"
_TEXT_FIELDS = ("algorithm", "challenge", "salt", "signature")


@dataclass(frozen=True)
class Challenge:
    algorithm: str
    challenge: str
    maxnumber: int
    salt: str
    signature: str

    def as_json(self) -> str:
        return json.dumps(
            {
                "algorithm": self.algorithm,
                "challenge": self.challenge,
                "maxnumber": self.maxnumber,
                "salt": self.salt,
                "signature": self.signature,
            },
            separators=(",", ":"),
        )


def _key() -> bytes:
    return salted_hmac("zbor.challenge", "key", algorithm="sha256").digest()


def create() -> Challenge:
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=settings.ZBOR_CHALLENGE_SECONDS)
    made = altcha.create_challenge_v1(
        altcha.ChallengeOptionsV1(
            algorithm=ALGORITHM, max_number=settings.ZBOR_CHALLENGE_MAX_NUMBER, hmac_key=_key(), expires=expires
        )
    )
    return Challenge(made.algorithm, made.challenge, made.max_number, made.salt, made.signature)


def refusal() -> str:
    """What a donor whose browser sent no valid answer is told."""
    return _(
        "Card payments need a short automatic check that runs in your browser with "
        "JavaScript. Turn JavaScript on and try again, or choose a bank transfer, "
        "which works without it."
    )


def verify(payload: str) -> bool:
    """True once for a correct, unexpired answer to a challenge this site made."""
    answer = _answer(payload)
    if answer is None:
        return False
    correct, _error = altcha.verify_solution_v1(cast(altcha.v1.PayloadType, answer), _key())
    # Once only: a solved challenge replayed by a bot counts as a second use.
    return correct and ratelimit.first_use("challenge", answer["challenge"], settings.ZBOR_CHALLENGE_SECONDS)


def _answer(payload: str) -> dict | None:
    """The answer as a dict in the shape this site's challenges have, or None: the library
    reads any JSON it is given, and would fail on a list or a number where a text belongs."""
    try:
        data = json.loads(base64.b64decode(payload.encode("ascii"), validate=True))
    except (ValueError, UnicodeError):  # binascii.Error and JSONDecodeError are ValueErrors
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(name), str) for name in _TEXT_FIELDS):
        return None
    try:
        number = int(data.get("number"))  # type: ignore[arg-type]  # checked here
    except (TypeError, ValueError):
        return None
    if data["algorithm"] != ALGORITHM or not 0 <= number <= settings.ZBOR_CHALLENGE_MAX_NUMBER:
        return None
    return {**{name: data[name] for name in _TEXT_FIELDS}, "number": number}
