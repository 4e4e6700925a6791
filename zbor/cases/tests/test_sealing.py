"""Sealing: what the web process writes it can never read again; only the private key opens it."""

import pytest
from nacl.public import PrivateKey

from tests.casework import foundation_keys
from zbor.cases import sealing
from zbor.cases.models import Case, FoundationKey, Programme, new_case_code
from zbor.cases.sealing import NoFoundationKey, Unreadable

pytestmark = pytest.mark.django_db


def test_a_sealed_value_round_trips_with_the_private_key_only():
    key, private = foundation_keys()
    blob = sealing.seal_json({"story": "Я вышла из тюрьмы", "amount": 1200})
    assert blob.startswith(f"{key.pk}:") and "тюрьмы" not in blob
    assert sealing.unseal_json(blob, private) == {"story": "Я вышла из тюрьмы", "amount": 1200}
    with pytest.raises(Unreadable):
        sealing.unseal(blob, PrivateKey.generate())
    assert sealing.unseal_text(sealing.seal_text("note"), private) == "note"
    assert sealing.seal_text("") == "" and sealing.sealed_key_id("") is None


def test_files_round_trip_and_two_seals_of_the_same_text_differ():
    key, private = foundation_keys()
    data = b"%PDF-1.4 passport scan"
    sealed = sealing.seal_file(data)
    assert data not in sealed and sealing.unseal_file(sealed, private) == data
    assert sealing.seal(b"same") != sealing.seal(b"same")
    with pytest.raises(Unreadable):
        sealing.unseal_file(b"garbage", private)


def test_sealing_needs_only_the_public_key_in_the_database():
    """The web process has no private key: a FoundationKey row (public half) is all it reads."""
    key, private = foundation_keys()
    row = FoundationKey.objects.get(pk=key.pk)
    assert set(vars(row)) & {"private_key", "secret"} == set()
    assert bytes(private) not in repr(vars(row)).encode()
    blob = sealing.seal(b"hello")
    assert sealing.unseal(blob, private) == b"hello"


def test_no_active_key_means_no_sealing():
    with pytest.raises(NoFoundationKey):
        sealing.seal(b"x")


def test_the_phrase_is_checked_without_any_key_and_forgives_spacing_and_case():
    programme = Programme.objects.create(slug="relocation")
    case = Case(programme=programme, language="ru")
    case.set_phrase("Amber  river Seven owls")
    case.save()
    assert "amber" not in case.phrase_hash
    assert case.check_phrase("amber river seven owls")
    assert not case.check_phrase("amber river seven owl")
    assert not Case(programme=programme, language="ru").check_phrase("")


def test_case_codes_avoid_ambiguous_characters():
    codes = {new_case_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert code.startswith("ZC-") and len(code) == 12
        assert not set(code[3:].replace("-", "")) & set("01OIL5S8BUV")
