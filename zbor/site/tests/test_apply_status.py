"""The applicant's status page: the case code and phrase in (one answer whatever is wrong,
throttled per client), then the case's status, the foundation's questions in the applicant's
language, a sealed answer with documents, and withdrawing."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from tests import applicants
from tests.casework import foundation_keys
from zbor import private_files
from zbor.cases import sealing
from zbor.cases.models import Case, CaseDocument, CaseMessage, CaseStatus, Direction
from zbor.site.apply_status import COOKIE

pytestmark = pytest.mark.django_db

WRONG = "The case code or the phrase is not right."


@pytest.fixture
def applied(client):
    """A case sent through the form in Russian: (case, phrase, private key)."""
    _fk, private = foundation_keys()
    made = applicants.programme()
    response = client.post(f"/ru/apply/{made.slug}/", applicants.application(made))
    assert response.status_code == 200
    words = re.findall(r'<li lang="en">(\w+)</li>', response.content.decode())
    client.cookies.clear()  # the applicant comes back another day
    return Case.objects.get(), " ".join(words), private


def _sign_in(client, case, phrase, language="en"):
    return client.post(f"/{language}/apply/status/", {"code": case.code, "phrase": phrase})


def test_the_code_and_phrase_open_the_status_page_in_any_spelling(client, applied):
    case, phrase, _private = applied
    typed_code = case.code.lower().replace("-", " ")
    response = client.post(
        "/en/apply/status/", {"code": typed_code, "phrase": "  " + phrase.upper().replace(" ", "-")}
    )
    assert response.status_code == 302 and response["Location"] == "/en/apply/status/"
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and not cookie["max-age"]
    assert phrase.split()[0] not in cookie.value and case.code not in cookie.value
    page = client.get("/en/apply/status/").content.decode()
    assert case.code in page and "Received" in page and "No questions so far." in page


def test_a_wrong_code_or_phrase_gets_one_answer_and_no_cookie(client, applied):
    case, phrase, _private = applied
    wrong_phrase = _sign_in(client, case, "maple otter quiet lamp kite")
    wrong_code = client.post("/en/apply/status/", {"code": "ZC-AAAA-AAAA", "phrase": phrase})
    empty = client.post("/en/apply/status/", {"code": "", "phrase": ""})
    for response in (wrong_phrase, wrong_code, empty):
        assert response.status_code == 400 and WRONG in response.content.decode()
        assert not response.cookies.get(COOKIE) or response.cookies[COOKIE].value == ""
    assert phrase not in wrong_code.content.decode()  # the phrase is never sent back
    assert "Received" not in client.get("/en/apply/status/").content.decode()


@override_settings(ZBOR_CASE_STATUS_FAILURES_PER_CLIENT_HOUR=3)
def test_wrong_tries_are_limited_per_client_even_for_the_right_phrase(client, applied):
    case, phrase, _private = applied
    for _ in range(3):
        assert _sign_in(client, case, "wrong wrong wrong wrong wrong").status_code == 400
    refused = _sign_in(client, case, phrase)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "many wrong tries" in refused.content.decode()
    # Another client is not affected.
    assert _sign_in(client, case, phrase).status_code == 429
    other = client.__class__(REMOTE_ADDR="198.51.100.7")
    assert _sign_in(other, case, phrase).status_code == 302


def test_the_foundations_question_is_shown_in_the_applicants_language_and_answered_sealed(client, applied, settings):
    case, phrase, private = applied
    # As the caseworkers' screen sends it (zbor/cases/templates.py keys; the body would be sealed).
    CaseMessage.objects.create(case=case, direction=Direction.TO_APPLICANT, template="identity_document")
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.NEEDS_INFORMATION)
    _sign_in(client, case, phrase, "ru")
    page = client.get("/ru/apply/status/").content.decode()
    assert "Нам нужно больше информации" in page
    assert "Please add a photo or scan of a document" in client.get("/en/apply/status/").content.decode()

    upload = SimpleUploadedFile("id.png", applicants.png_with_text("EXIF-MARKER"))
    response = client.post(
        "/ru/apply/status/answer/", {"text": "Паспорт прилагаю. ANSWER-MARKER", "documents": [upload]}
    )
    assert response.status_code == 302
    message = CaseMessage.objects.get(direction=Direction.FROM_APPLICANT)
    assert "ANSWER-MARKER" not in message.body
    assert sealing.unseal_text(message.body, private) == "Паспорт прилагаю. ANSWER-MARKER"
    document = CaseDocument.objects.get()
    clean = sealing.unseal_file(private_files.load(document.stored_name), private)
    assert clean.startswith(b"\xff\xd8") and b"EXIF-MARKER" not in clean
    after = client.get("/ru/apply/status/").content.decode()
    assert "ANSWER-MARKER" not in after  # the page cannot read it back
    assert "<dd>1</dd>" in after  # one document


def test_an_empty_answer_is_refused_and_a_closed_case_takes_nothing(client, applied):
    case, phrase, _private = applied
    _sign_in(client, case, phrase)
    empty = client.post("/en/apply/status/answer/", {"text": "  "})
    assert empty.status_code == 400 and "Write an answer or choose a document" in empty.content.decode()
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.DECLINED)
    page = client.get("/en/apply/status/").content.decode()
    assert "We cannot help this time" in page and 'action="/en/apply/status/answer/"' not in page
    closed = client.post("/en/apply/status/answer/", {"text": "one more thing"})
    assert closed.status_code == 400 and "This application is closed" in closed.content.decode()
    assert not CaseMessage.objects.filter(direction=Direction.FROM_APPLICANT).exists()


def test_withdrawing_asks_once_then_withdraws(client, applied):
    case, phrase, _private = applied
    _sign_in(client, case, phrase)
    confirm = client.get("/en/apply/status/withdraw/").content.decode()
    assert "deleted after 90 days" in confirm and "Yes, withdraw my application" in confirm
    assert client.post("/en/apply/status/withdraw/").status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    page = client.get("/en/apply/status/").content.decode()
    assert "You withdrew this application." in page and "Withdraw my application" not in page


def test_without_signing_in_nothing_opens(client, applied):
    assert client.post("/en/apply/status/answer/", {"text": "x"}).status_code == 403
    assert client.post("/en/apply/status/withdraw/").status_code == 403
    client.cookies[COOKIE] = "1:forged:signature"
    assert "Received" not in client.get("/en/apply/status/").content.decode()
    assert Case.objects.get().status == CaseStatus.NEW


def test_leaving_forgets_the_browser_and_the_sign_in_expires(client, applied, settings):
    case, phrase, _private = applied
    _sign_in(client, case, phrase)
    assert case.code in client.get("/en/apply/status/").content.decode()
    assert client.post("/en/apply/status/leave/").status_code == 302
    assert case.code not in client.get("/en/apply/status/").content.decode()
    _sign_in(client, case, phrase)
    settings.ZBOR_CASE_STATUS_SECONDS = -1  # every signature is older than that
    assert case.code not in client.get("/en/apply/status/").content.decode()
