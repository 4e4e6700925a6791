"""The applicant's secret phrase: five short, common English words, chosen at random.

The word list (phrase_words.txt beside this file) was written for Zbor: 1,081 plain words of
three to seven letters (things, animals, colours, simple verbs), none the start of another with
an "s" or "y" added, none about prison, danger or the body's troubles. Five words chosen by
``secrets`` give about 50 bits: guessing a phrase online runs into the status page's per-client
limit long before, and the stored Argon2id hash (zbor.cases.sealing.hash_phrase) makes every
offline guess slow. English words, whatever the page's language: they are easy to write down by
hand in any alphabet, and the status page accepts them in any case and spacing.

A phrase is shown once, on the page that answers the application, and never stored: only its
hash is.
"""

from __future__ import annotations

import functools
import re
import secrets
from pathlib import Path

WORDS_FILE = Path(__file__).with_name("phrase_words.txt")
PHRASE_WORDS = 5
#: What may separate the words when a phrase is typed back: spaces, hyphens, dots, commas.
_SEPARATORS = re.compile(r"[\s\-_.,;/]+")


@functools.cache
def words() -> tuple[str, ...]:
    return tuple(w for w in WORDS_FILE.read_text(encoding="utf-8").split() if w)


def new_phrase(count: int = PHRASE_WORDS) -> str:
    """``count`` random words separated by single spaces, e.g. ``"maple otter quiet lamp kite"``."""
    chosen = words()
    return " ".join(secrets.choice(chosen) for _ in range(count))


def tidy_phrase(typed: str) -> str:
    """A phrase as typed back ("Maple-Otter  quiet,lamp kite") in the shape it was shown in."""
    return " ".join(part for part in _SEPARATORS.split(typed.strip().lower()) if part)
