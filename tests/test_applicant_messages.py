"""A caseworker's words to an applicant (issue 20, ADR 0016 "Messages to the applicant"): asked
through the real casework screen with a free text, read on the real status page after signing in
with the case code and phrase — and nowhere else: not in the database (neither sealed copy), not
in the logs, not without the status cookie or with a forged one, not after a purge; still readable
by the applicant after a rotation of the foundation key."""

import logging
import re

import pytest
from django.core import signing
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests import applicants
from tests.casework import PASSPHRASE, caseworker, foundation_keys, unlock
from tests.test_apply_browser import database_bytes, redis_bytes
from zbor.cases import applicant_key, retention, sealing
from zbor.cases.models import Case, CaseMessage
from zbor.site.apply_status import _SALT, COOKIE

pytestmark = pytest.mark.django_db

#: What the caseworker writes: two lines, one with markup that must come out escaped.
TEXT = "Please send page two of the Q7XW-summons.\nThe one with <b>the court's stamp</b>."
#: Bits of it that must never be stored or logged (long enough not to turn up in base64 by chance).
PIECES = ["Q7XW-summons", "court's stamp", "page two of the"]


@pytest.fixture
def applied():
    """A case sent through the Russian form: (case, phrase)."""
    foundation_keys()
    made = applicants.programme()
    response = Client().post(f"/ru/apply/{made.slug}/", applicants.application(made))
    assert response.status_code == 200
    words = re.findall(r'<li lang="en">(\w+)</li>', response.content.decode())
    return Case.objects.get(), " ".join(words)


def _ask(case, text=TEXT):
    anna = caseworker("anna")
    staff = Client()
    assert unlock(staff, anna).status_code == 302
    return staff.post(reverse("admin:cases_case_act", args=[case.pk, "ask"]), {"template": "other", "text": text})


def _applicant(case, phrase) -> Client:
    client = Client()
    response = client.post("/en/apply/status/", {"code": case.code, "phrase": phrase})
    assert response.status_code == 302
    return client


def _status(client) -> str:
    return client.get("/en/apply/status/").content.decode()


SHOWN = "<p>Please send page two of the Q7XW-summons.<br>The one with &lt;b&gt;the court&#x27;s stamp&lt;/b&gt;.</p>"


def test_the_applicant_reads_the_caseworkers_text_under_the_question_and_nothing_stores_it(applied, caplog):
    caplog.set_level(logging.DEBUG)
    case, phrase = applied
    assert _ask(case).status_code == 302
    message = CaseMessage.objects.get(case=case)
    assert message.body and message.body_for_applicant

    client = _applicant(case, phrase)
    cookie = client.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and not cookie["max-age"]
    assert phrase.split()[0] not in cookie.value
    page = _status(client)
    assert "please read the message below" in page and SHOWN in page  # escaped, line breaks kept
    assert "<b>the court" not in page
    assert SHOWN in _status(client)  # and again, with the renewed cookie

    stored = database_bytes() + b"\n".join(redis_bytes())
    assert case.code.encode() in stored  # the dump reads the rows
    assert [p for p in PIECES if p.encode() in stored or p.encode("utf-16-le") in stored] == []
    records = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    assert [p for p in PIECES if p in caplog.text or p in records] == []


def test_without_the_cookie_or_with_a_forged_one_the_text_stays_sealed(applied):
    case, phrase = applied
    _ask(case)
    genuine = _applicant(case, phrase).cookies[COOKIE].value
    pk, key_text = signing.TimestampSigner(salt=_SALT).unsign(genuine).split(":")
    assert pk == str(case.pk) and len(key_text) == 64

    assert "Q7XW-summons" not in _status(Client())  # no cookie: the sign-in form
    tampered = Client()
    flipped = "0" if key_text[0] != "0" else "1"
    tampered.cookies[COOKIE] = genuine.replace(key_text, flipped + key_text[1:])
    page = _status(tampered)
    assert "Q7XW-summons" not in page and "Case code" in page  # a bad signature: signed out

    # A genuine signature over another key (as only the server could make): no text.
    for forged_key in ("", "ab" * 32, "not hex"):
        other = Client()
        other.cookies[COOKIE] = signing.TimestampSigner(salt=_SALT).sign(f"{case.pk}:{forged_key}")
        page = _status(other)
        assert case.code in page and "please read the message below" in page
        assert "Q7XW-summons" not in page and "sign in again with your case code and phrase" in page


def test_a_case_from_before_applicant_keys_refuses_the_text_with_a_clear_message(applied):
    case, _phrase = applied
    Case.objects.filter(pk=case.pk).update(**{name: "" for name in applicant_key.FIELDS[:3]})
    response = _ask(case)
    assert response.status_code == 200
    assert "came before applicants had a key of their own" in response.content.decode()
    assert not CaseMessage.objects.filter(case=case).exists()


def test_after_a_rotation_the_applicant_still_reads_it_and_after_a_purge_nothing_is_left(applied, monkeypatch):
    case, phrase = applied
    _ask(case)
    monkeypatch.setattr("zbor.cases.management.commands.casework_keys.getpass", lambda prompt="": PASSPHRASE)
    call_command("casework_keys", "rotate", "--by", "anna")
    message = CaseMessage.objects.get(case=case)
    assert sealing.sealed_key_id(message.body) == sealing.active_key().pk
    client = _applicant(case, phrase)
    assert SHOWN in _status(client)

    retention.purge_case(case)
    case.refresh_from_db()
    assert not CaseMessage.objects.filter(case=case).exists()
    assert not any(getattr(case, name) for name in applicant_key.FIELDS)
    assert "Q7XW-summons" not in _status(client) and "Case code" in _status(client)
