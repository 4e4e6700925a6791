"""Random strings from one read of the system's randomness (zbor/randomness.py): the strings
Django's get_random_string makes, each character uniform over the allowed ones."""

from collections import Counter
from unittest import mock

from django.middleware import csrf
from django.utils import crypto
from hypothesis import given
from hypothesis import strategies as st

from zbor import randomness
from zbor.randomness import random_string


def test_django_makes_csrf_tokens_and_random_strings_with_it():
    # If a Django upgrade renamed what csrf imports, this fails rather than the page slowing down.
    assert csrf.get_random_string is random_string
    assert crypto.get_random_string is random_string
    assert len(csrf._get_new_csrf_string()) == csrf.CSRF_SECRET_LENGTH


@given(st.integers(min_value=0, max_value=200), st.sets(st.characters(), min_size=1, max_size=300))
def test_a_string_has_the_length_asked_and_only_allowed_characters(length, alphabet):
    allowed = "".join(sorted(alphabet))
    drawn = random_string(length, allowed)
    assert len(drawn) == length and set(drawn) <= set(allowed)


def test_a_csrf_secret_is_one_read_of_the_system_randomness():
    with mock.patch.object(randomness.secrets, "token_bytes", wraps=randomness.secrets.token_bytes) as read:
        for _ in range(100):
            csrf._get_new_csrf_string()
    # 48 bytes for 32 characters: fewer than 32 usable ones (3% are dropped) is all but impossible.
    assert read.call_count == 100


def test_bytes_past_the_last_whole_multiple_of_the_alphabet_are_dropped_not_wrapped():
    # 255 symbols: byte 255 would be symbol 0 a second time, making it twice as likely.
    alphabet = "".join(chr(0x100 + i) for i in range(255))
    reads = iter([b"\xff" * 20, bytes([7]) * 20])
    with mock.patch.object(randomness.secrets, "token_bytes", side_effect=lambda n: next(reads)[:n]):
        assert random_string(10, alphabet) == alphabet[7] * 10


def test_every_character_is_equally_likely():
    alphabet = csrf.CSRF_ALLOWED_CHARS  # 62 symbols: 248 of the 256 byte values are used
    counts = Counter(random_string(200_000, alphabet))
    expected = 200_000 / len(alphabet)
    chi_square = sum((counts[c] - expected) ** 2 / expected for c in alphabet)
    # 61 degrees of freedom: 130 is far past p = 1e-6, which a uniform draw almost never reaches,
    # while wrapping the dropped bytes around (8 symbols twice as likely for 8 of 256 values)
    # gives about 1,300.
    assert chi_square < 130, chi_square
    assert set(counts) == set(alphabet)


def test_an_alphabet_longer_than_a_byte_is_left_to_django():
    alphabet = "".join(chr(0x4E00 + i) for i in range(300))
    with mock.patch.object(randomness, "DJANGO_RANDOM_STRING", wraps=randomness.DJANGO_RANDOM_STRING) as django:
        drawn = random_string(64, alphabet)
    assert django.call_count == 1
    assert len(drawn) == 64 and set(drawn) <= set(alphabet)
