"""The applicant's own key (zbor.cases.applicant_key): made at submission and wrapped under the
phrase; a caseworker's free text sealed to it as well as to the foundation; left alone by a
rotation of the foundation key; destroyed by the purge."""

import pytest
from django.core.management import call_command

from tests.casework import PASSPHRASE, caseworker, foundation_keys
from zbor.cases import applicant_key, applying, keys, retention, sealing, work
from zbor.cases.models import Case, CaseMessage, CaseStatus, CaseworkerKey, Direction, FoundationKey
from zbor.cases.sealing import Unreadable, registered_sealed
from zbor.cases.tests.casefactory import PHRASE, programme, sealed_case

pytestmark = pytest.mark.django_db

TEXT = "Please send the second page of the Q7XW summons, the one with the stamp."


def _row_text(case: Case) -> str:
    """Every value of the case's row and of its messages' rows, as stored."""
    values = list(Case.objects.filter(pk=case.pk).values().get().values())
    values += [v for row in CaseMessage.objects.filter(case=case).values() for v in row.values()]
    return " ".join(str(v) for v in values)


def test_a_submitted_case_gets_a_key_that_only_its_phrase_opens():
    foundation_keys()
    case, phrase = applying.submit_application(
        programme(), answers={"core": {"name": "N"}, "questions": []}, uploads=[], language="ru"
    )
    case.refresh_from_db()
    assert applicant_key.has_key(case) and case.applicant_key_salt and case.applicant_key_opslimit
    key = applicant_key.open_key(case, phrase)
    assert key is not None and sealing.b64(bytes(key.public_key)) == case.applicant_public_key
    # Typed back in another spelling, as the status page accepts it.
    again = applicant_key.open_key(case, "  " + phrase.upper().replace(" ", "-"))
    assert again is not None and bytes(again) == bytes(key)
    assert applicant_key.open_key(case, "maple otter quiet lamp kite") is None
    stored = _row_text(case)
    assert phrase not in stored and bytes(key).hex() not in stored and sealing.b64(bytes(key)) not in stored
    # Its own salt: the phrase's hash and the wrapping do not share one.
    assert case.applicant_key_salt not in case.phrase_hash


def test_sign_in_gives_the_case_and_its_key_or_nothing():
    case = sealed_case()
    found = applying.sign_in(case.code, PHRASE)
    assert found is not None and found[0] == case and found[1] is not None
    assert applying.sign_in(case.code, "maple otter quiet lamp kite") is None
    older = sealed_case(applicant_key=False, message="")
    found = applying.sign_in(older.code, PHRASE)
    assert found is not None and found == (older, None)


def test_a_free_text_is_sealed_to_the_foundation_and_to_the_applicant_and_readable_by_each():
    _fk, foundation = foundation_keys()
    anna = caseworker("anna")
    case = sealed_case()
    message = work.ask_applicant(case, template="other", text=f"  {TEXT}\n", by=anna)
    message.refresh_from_db()
    assert "Q7XW summons" not in _row_text(case)  # neither field holds the plaintext
    assert message.body_for_applicant.startswith(applicant_key.PREFIX)
    assert sealing.unseal_text(message.body, foundation) == TEXT
    key = applicant_key.open_key(case, PHRASE)
    assert applying.text_for_applicant(message, key) == TEXT
    # Each key opens only its own copy.
    with pytest.raises(Unreadable):
        applicant_key.open_for(message.body_for_applicant, foundation)
    with pytest.raises(Unreadable):
        sealing.unseal_text(message.body, key)
    assert applying.text_for_applicant(message, None) is None
    other = applicant_key.open_key(sealed_case(), PHRASE)
    assert applying.text_for_applicant(message, other) is None
    # The caseworkers still read it with the question.
    assert TEXT in work.read_case(case, by=anna, key=foundation).messages[-1].text
    # A question without a text has nothing for the applicant.
    plain = work.ask_applicant(case, template="where_now", by=anna)
    assert plain.body == plain.body_for_applicant == "" and applying.text_for_applicant(plain, key) == ""


def test_an_older_case_without_a_key_refuses_a_free_text_but_takes_a_template():
    anna = caseworker("anna")
    case = sealed_case(applicant_key=False, message="")
    with pytest.raises(work.CaseworkError, match="before applicants had a key of their own"):
        work.ask_applicant(case, template="court_documents", text=TEXT, by=anna)
    assert not CaseMessage.objects.filter(case=case).exists()
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW  # nothing half-done
    work.ask_applicant(case, template="court_documents", by=anna)
    assert CaseMessage.objects.get(case=case).body_for_applicant == ""


def test_read_the_message_below_needs_a_message():
    anna = caseworker("anna")
    case = sealed_case(message="")
    with pytest.raises(work.CaseworkError, match="write it below the question"):
        work.ask_applicant(case, template="other", text="  ", by=anna)
    assert not CaseMessage.objects.filter(case=case).exists()


def test_the_applicants_copy_is_declared_apart_from_what_the_foundation_key_seals():
    entry = next(e for e in registered_sealed() if e.model is CaseMessage)
    assert entry.fields == ("body",) and entry.applicant_fields == ("body_for_applicant",)


def test_a_rotation_reseals_the_foundation_copy_and_leaves_the_applicants_readable(monkeypatch):
    old_fk, _old = foundation_keys()
    anna = caseworker("anna")
    case = sealed_case()
    message = work.ask_applicant(case, template="other", text=TEXT, by=anna)
    message.refresh_from_db()
    before = message.body_for_applicant
    monkeypatch.setattr("zbor.cases.management.commands.casework_keys.getpass", lambda prompt="": PASSPHRASE)
    call_command("casework_keys", "rotate", "--by", "anna")
    new_fk = FoundationKey.objects.get(active=True)
    new = keys.unwrap(CaseworkerKey.objects.get(user=anna, foundation_key=new_fk), PASSPHRASE)
    message.refresh_from_db()
    assert sealing.sealed_key_id(message.body) == new_fk.pk != old_fk.pk
    assert sealing.unseal_text(message.body, new) == TEXT
    assert message.body_for_applicant == before  # untouched
    found = applying.sign_in(case.code, PHRASE)
    assert found is not None and applying.text_for_applicant(message, found[1]) == TEXT


def test_the_purge_destroys_the_applicants_copy_and_key(django_capture_on_commit_callbacks):
    anna = caseworker("anna")
    case = sealed_case()
    work.ask_applicant(case, template="other", text=TEXT, by=anna)
    with django_capture_on_commit_callbacks(execute=True):
        retention.purge_case(case, by=anna)
    case.refresh_from_db()
    assert not CaseMessage.objects.filter(case=case).exists()
    assert [getattr(case, name) for name in applicant_key.FIELDS] == ["", "", "", 0, 0]
    assert not applicant_key.has_key(case) and applicant_key.open_key(case, PHRASE) is None
    assert applying.sign_in(case.code, PHRASE) is None
    # Every column declared sealed, to either key, is empty for this case.
    for entry in registered_sealed():
        relation = {"case": "pk"}.get(entry.model._meta.model_name, "case")
        rows = entry.model.objects.filter(**{relation: case.pk})
        for name in (*entry.fields, *entry.applicant_fields):
            assert set(rows.values_list(name, flat=True)) <= {""}, f"{entry.model._meta.label}.{name}"
    assert CaseMessage.objects.filter(direction=Direction.TO_APPLICANT).count() == 0
