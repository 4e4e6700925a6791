"""Caseworkers' copies of the key: strong passphrases, adding and removing, the first key, and
rotation (everything re-sealed; old copies either hand over to the new key or are deleted)."""

from getpass import getpass  # noqa: F401  (patched below)

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from tests import factories
from tests.casework import PASSPHRASE, caseworker, foundation_keys, unlock
from zbor import private_files
from zbor.accounts.models import AuditEvent
from zbor.cases import keys, sealing
from zbor.cases.models import Case, CaseDocument, CaseNote, CaseSession, CaseworkerKey, FoundationKey, Programme
from zbor.cases.sealing import Unreadable

pytestmark = pytest.mark.django_db

OTHER = "harbour violet ninety patiently"


@pytest.mark.parametrize(
    ("passphrase", "reason"),
    [
        ("short words", "at least 12"),
        ("aaaaaaaaaaaaaaaa", "too few different"),
        ("123456789012345", "entirely numeric"),
    ],
)
def test_weak_passphrases_are_refused_with_a_reason(passphrase, reason):
    with pytest.raises(ValidationError) as error:
        keys.check_passphrase(passphrase)
    assert reason in " ".join(error.value.messages)


def test_the_sign_in_password_is_not_a_passphrase():
    user = factories.role_user("caseworker", "pw-reuse")
    user.set_password(OTHER)
    with pytest.raises(ValidationError, match="sign-in password"):
        keys.check_passphrase(OTHER, user)


def test_a_copy_opens_only_with_its_passphrase():
    key, private = foundation_keys()
    anna = caseworker("anna")
    copy = CaseworkerKey.objects.get(user=anna)
    assert bytes(keys.unwrap(copy, PASSPHRASE)) == bytes(private)
    with pytest.raises(keys.WrongPassphrase):
        keys.unwrap(copy, OTHER)
    assert sealing.b64(bytes(private)) not in copy.wrapped


def _new_passphrases(monkeypatch, *answers):
    answers_left = list(answers)
    monkeypatch.setattr("zbor.cases.management.commands.casework_keys.getpass", lambda prompt="": answers_left.pop(0))


def test_init_makes_the_first_key_once(monkeypatch):
    anna = factories.role_user("caseworker", "anna")
    _new_passphrases(monkeypatch, PASSPHRASE, PASSPHRASE)
    call_command("casework_keys", "init", "anna")
    key = FoundationKey.objects.get(active=True)
    assert bytes(keys.unwrap(CaseworkerKey.objects.get(user=anna), PASSPHRASE).public_key) == sealing.unb64(
        key.public_key
    )
    _new_passphrases(monkeypatch, PASSPHRASE, PASSPHRASE)
    with pytest.raises(CommandError, match="exists already"):
        call_command("casework_keys", "init", "anna")
    editor = factories.role_user("editor", "ed")
    with pytest.raises(CommandError, match="caseworker role"):
        call_command("casework_keys", "init", editor.username)


def test_add_and_remove_at_the_terminal(monkeypatch):
    _key, private = foundation_keys()
    caseworker("anna")
    bob = caseworker("bob", copy=False)
    _new_passphrases(monkeypatch, PASSPHRASE, OTHER, OTHER)
    call_command("casework_keys", "add", "bob", "--by", "anna")
    assert bytes(keys.unwrap(CaseworkerKey.objects.get(user=bob), OTHER)) == bytes(private)
    assert AuditEvent.objects.filter(action="cases.caseworker.add", object_id=str(bob.pk)).exists()
    call_command("casework_keys", "remove", "bob")
    assert not CaseworkerKey.objects.filter(user=bob).exists()
    _new_passphrases(monkeypatch, "wrong wrong wrong wrong")
    with pytest.raises(CommandError, match="does not open"):
        call_command("casework_keys", "add", "bob", "--by", "anna")


def test_an_unlocked_caseworker_adds_another_on_one_screen(client):
    _key, private = foundation_keys()
    anna = caseworker("anna")
    bob = caseworker("bob", copy=False)
    url = reverse("admin:cases_add_caseworker")
    client.force_login(anna)
    assert client.get(url).status_code == 302  # locked: unlock first
    unlock(client, anna)
    weak = client.post(url, {"user": bob.pk, "passphrase": "short", "passphrase2": "short"})
    assert "at least 12" in weak.content.decode() and not CaseworkerKey.objects.filter(user=bob).exists()
    differ = client.post(url, {"user": bob.pk, "passphrase": OTHER, "passphrase2": OTHER + "x"})
    assert "differ" in differ.content.decode()
    response = client.post(url, {"user": bob.pk, "passphrase": OTHER, "passphrase2": OTHER})
    assert response.status_code == 302
    assert bytes(keys.unwrap(CaseworkerKey.objects.get(user=bob), OTHER)) == bytes(private)
    # Removing through the list deletes the copy and any unlock.
    copy = CaseworkerKey.objects.get(user=bob)
    client.post(reverse("admin:cases_caseworkerkey_delete", args=[copy.pk]), {"post": "yes"})
    assert not CaseworkerKey.objects.filter(user=bob).exists()
    assert AuditEvent.objects.filter(action="cases.caseworker.remove", object_id=str(bob.pk)).exists()


def _sealed_world():
    programme = Programme.objects.create(slug="health")
    key, _private = foundation_keys()
    case = Case.objects.create(
        programme=programme, language="ru", answers=sealing.seal_json({"story": "секрет"}), key=key
    )
    author = factories.role_user("caseworker", "note-author")
    note = CaseNote.objects.create(case=case, author=author, body=sealing.seal_text("a note"))
    doc = CaseDocument.objects.create(case=case, stored_name=private_files.store(sealing.seal_file(b"scan")), size=4)
    return case, note, doc


def test_rotation_reseals_everything_and_hands_over(monkeypatch, django_capture_on_commit_callbacks):
    case, note, doc = _sealed_world()
    old_fk, old = foundation_keys()
    anna = caseworker("anna")
    bob = caseworker("bob", passphrase=OTHER)
    old_doc_name = doc.stored_name
    before = case.answers
    _new_passphrases(monkeypatch, PASSPHRASE)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("casework_keys", "rotate", "--by", "anna")
    new_fk = FoundationKey.objects.get(active=True)
    assert new_fk.pk != old_fk.pk
    new = keys.unwrap(CaseworkerKey.objects.get(user=anna, foundation_key=new_fk), PASSPHRASE)
    case.refresh_from_db()
    note.refresh_from_db()
    doc.refresh_from_db()
    assert case.key_id == new_fk.pk and sealing.sealed_key_id(case.answers) == new_fk.pk
    assert sealing.unseal_json(case.answers, new) == {"story": "секрет"}
    with pytest.raises(Unreadable):  # the new key reads only what was re-sealed to it
        sealing.unseal_json(before, new)
    assert sealing.unseal_text(note.body, new) == "a note"
    assert sealing.unseal_file(private_files.load(doc.stored_name), new) == b"scan"
    assert doc.stored_name != old_doc_name and not (private_files.settings.ZBOR_PRIVATE_ROOT / old_doc_name).exists()
    with pytest.raises(Unreadable):  # the old key opens nothing any more
        sealing.unseal_json(case.answers, old)
    assert AuditEvent.objects.filter(action="cases.key.rotate").exists()
    # Bob was away: his old copy still opens, and unlocking re-wraps the new key for him.
    assert CaseworkerKey.objects.get(user=bob).foundation_key_id == old_fk.pk
    foundation_key, key = keys.open_copy(bob, OTHER)
    assert foundation_key.pk == new_fk.pk and bytes(key) == bytes(new)
    assert list(CaseworkerKey.objects.filter(user=bob).values_list("foundation_key", flat=True)) == [new_fk.pk]


def test_rotation_without_handover_deletes_the_other_copies(monkeypatch, client):
    _sealed_world()
    caseworker("anna")
    bob = caseworker("bob", passphrase=OTHER)
    unlock(client, bob, OTHER)
    _new_passphrases(monkeypatch, PASSPHRASE)
    call_command("casework_keys", "rotate", "--by", "anna", "--no-handover")
    assert not CaseworkerKey.objects.filter(user=bob).exists()
    assert not CaseSession.objects.exists()  # every unlock was of the old key
    with pytest.raises(keys.NoCopy):
        keys.open_copy(bob, OTHER)


def test_rotation_refuses_a_wrong_passphrase_and_changes_nothing(monkeypatch):
    case, _note, _doc = _sealed_world()
    caseworker("anna")
    before = case.answers
    _new_passphrases(monkeypatch, OTHER)
    with pytest.raises(CommandError, match="does not open"):
        call_command("casework_keys", "rotate", "--by", "anna")
    case.refresh_from_db()
    assert case.answers == before and FoundationKey.objects.count() == 1


def test_a_rotation_of_the_fernet_keys_rotates_sealed_documents_too(settings):
    """Sealed files are stored with zbor.private_files, which encrypts them once more with
    ZBOR_ENCRYPTION_KEYS: removing an old Fernet key after `zbor rotate_encryption_keys` must
    leave them readable."""
    from cryptography.fernet import Fernet

    from zbor.accounts.keys import rotate_encryption_keys

    _case, _note, doc = _sealed_world()
    _key, private = foundation_keys()
    new_key = Fernet.generate_key().decode()
    settings.ZBOR_ENCRYPTION_KEYS = [new_key, *settings.ZBOR_ENCRYPTION_KEYS]
    rotate_encryption_keys(label="test")
    settings.ZBOR_ENCRYPTION_KEYS = [new_key]
    assert sealing.unseal_file(private_files.load(doc.stored_name), private) == b"scan"
