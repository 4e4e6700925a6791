"""Bank references are drawn with Django's own generator: uniform over an unambiguous
alphabet, and nothing in Zbor replaces Django's randomness."""

from collections import Counter

from django.middleware import csrf
from django.utils import crypto

from zbor.payments.bank import ALPHABET, BODY_LENGTH, PREFIX, check_symbol, new_reference, references_in


def test_django_makes_its_secrets_with_its_own_generator():
    assert crypto.get_random_string.__module__ == "django.utils.crypto"
    assert csrf.get_random_string is crypto.get_random_string  # type: ignore[attr-defined]


def test_the_alphabet_has_no_symbol_people_misread():
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert not set(ALPHABET) & set("ILOU")


def test_a_reference_is_the_prefix_a_random_body_and_its_check_symbol():
    for _ in range(200):
        reference = new_reference()
        body, check = reference[len(PREFIX) : -1], reference[-1]
        assert reference.startswith(PREFIX) and len(body) == BODY_LENGTH
        assert set(body) <= set(ALPHABET) and check == check_symbol(body)
        # Followed by a mark that ends it: with a word after it, a body beginning "ZB" (1 in 1,024)
        # left a second candidate inside, which the next letters made valid 1 time in 32.
        assert references_in(f"Donation {reference[:6]}-{reference[6:]}! Thanks") == [reference]


def test_a_reference_whose_body_begins_like_the_prefix_is_found_once():
    body = "ZB742AAH"[: BODY_LENGTH - 1]
    body = (body + "2" * BODY_LENGTH)[:BODY_LENGTH]
    reference = PREFIX + body + check_symbol(body)
    assert references_in(f"for {reference}, with love") == [reference]


def test_every_symbol_of_a_body_is_equally_likely():
    counts = Counter("".join(new_reference()[len(PREFIX) : -1] for _ in range(20_000)))
    expected = 20_000 * BODY_LENGTH / len(ALPHABET)
    chi_square = sum((counts[c] - expected) ** 2 / expected for c in ALPHABET)
    # 31 degrees of freedom: 80 is far past p = 1e-6, which a uniform draw almost never reaches.
    assert chi_square < 80, chi_square
    assert set(counts) == set(ALPHABET)
