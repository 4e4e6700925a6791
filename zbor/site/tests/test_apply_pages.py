"""The applicant's pages (issue 20): choose a programme, apply, get a code and phrase shown once,
and nothing readable stays on the server; bad input is a clear error and leaves nothing behind."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from nacl.pwhash import argon2id

from tests import applicants
from tests.casework import foundation_keys
from zbor import private_files
from zbor.accounts.models import AuditEvent
from zbor.cases import sealing
from zbor.cases.models import Case, CaseDocument, QuestionKind

pytestmark = pytest.mark.django_db

PHRASE = re.compile(r'<ol class="phrase"[^>]*>(.*?)</ol>', re.S)


def _sent_phrase(html: str) -> str:
    return " ".join(re.findall(r'<li lang="en">(\w+)</li>', PHRASE.search(html).group(1)))


@pytest.fixture
def keys():
    return foundation_keys()


@pytest.fixture
def relocation():
    return applicants.programme()


def _apply(client, made, **answers):
    return client.post(f"/en/apply/{made.slug}/", applicants.application(made, **answers))


def test_the_start_page_lists_open_programmes_and_links_the_status_page(client, keys, relocation):
    applicants.programme("closed", name="Closed programme", active=False)
    page = client.get("/en/apply/").content.decode()
    assert "Relocation" in page and "Closed programme" not in page
    assert 'href="/en/apply/relocation/"' in page and 'href="/en/apply/status/"' in page
    assert "Declined or withdrawn applications are deleted after 90 days." in page
    # Linked from every page's footer and from the home page.
    home = client.get("/en/").content.decode()
    assert home.count('href="/en/apply/"') == 2
    assert 'href="/en/apply/"' in client.get("/en/transparency/").content.decode()


@pytest.mark.parametrize("language", ["en", "ru", "be", "pl"])
def test_the_form_is_in_each_language_and_asks_the_core_and_the_programmes_questions(
    client, keys, relocation, language
):
    response = client.get(f"/{language}/apply/relocation/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    for name in ("name", "location", "story", "needs", "amount", "currency", "contact_channel", "contact"):
        assert f'name="{name}"' in page
    for question in relocation.questions.all():
        assert f'name="q{question.pk}"' in page
    assert 'enctype="multipart/form-data"' in page and "data-challenge=" in page
    if language != "en":
        assert "How should we address you?" not in page  # translated


def test_an_application_is_sealed_and_the_code_and_phrase_are_shown_once(client, keys, relocation):
    fk, private = keys
    pdf = applicants.pdf_with_metadata("Hidden Author Marker")
    data = applicants.application(relocation, story="Detained on the 3rd; STORY-MARKER")
    data[applicants.question_field(relocation, QuestionKind.FILE)] = SimpleUploadedFile("scan.pdf", pdf)
    response = client.post("/en/apply/relocation/", data)

    assert response.status_code == 200, response.content.decode()[:3000]
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    case = Case.objects.get()
    assert case.code in html and case.status == "new" and case.language == "en" and case.key_id == fk.pk
    phrase = _sent_phrase(html)
    assert len(phrase.split()) == 5 and phrase not in case.phrase_hash
    assert argon2id.verify(case.phrase_hash.encode(), phrase.encode())

    # Sealed: unreadable without the private key, complete with it.
    assert "STORY-MARKER" not in case.answers
    answers = sealing.unseal_json(case.answers, private)
    assert answers["core"]["story"] == "Detained on the 3rd; STORY-MARKER"
    assert answers["core"]["amount"] == 120000 and answers["core"]["contact"] == "alesia.42"
    by_kind = {q["kind"]: q["answer"] for q in answers["questions"]}
    assert by_kind == {
        "text": "",
        "long_text": "",
        "choice": "No",
        "date": "2026-10-03",
        "amount": 24000,
        "file": "scan.pdf",
    }
    # The file: rebuilt without its metadata, sealed, stored encrypted once more.
    document = CaseDocument.objects.get()
    meta = sealing.unseal_json(document.meta, private)
    assert meta["name"] == "scan.pdf" and meta["content_type"] == "application/pdf"
    stored = private_files.load(document.stored_name)
    clean = sealing.unseal_file(stored, private)
    assert clean.startswith(b"%PDF-") and b"Hidden Author Marker" not in clean and document.size == len(clean)
    # The audit log says what happened, never what was written.
    event = AuditEvent.objects.get(action="case.received")
    assert event.actor_label == "applicant" and "MARKER" not in str(event.__dict__)


def test_a_picture_is_re_encoded_without_its_metadata(client, keys, relocation):
    _fk, private = keys
    data = applicants.application(relocation)
    data[applicants.question_field(relocation, QuestionKind.FILE)] = SimpleUploadedFile(
        "photo.png", applicants.png_with_text("GPS-MARKER")
    )
    assert client.post("/en/apply/relocation/", data).status_code == 200
    clean = sealing.unseal_file(private_files.load(CaseDocument.objects.get().stored_name), private)
    assert clean.startswith(b"\xff\xd8") and b"GPS-MARKER" not in clean


def test_a_form_with_mistakes_says_what_to_fix_and_keeps_nothing(client, keys, relocation, settings):
    before = set(settings.ZBOR_PRIVATE_ROOT.glob("*"))
    data = applicants.application(
        relocation, story="", contact_channel="email", contact="not an address", amount="abc"
    )
    data[applicants.question_field(relocation, QuestionKind.FILE)] = SimpleUploadedFile("x.pdf", b"not a document")
    response = client.post("/en/apply/relocation/", data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Please check the form" in page and "This field is required." in page
    assert "Enter a valid email address." in page and "files are not kept" in page
    assert "My husband was detained" not in page  # the story field was emptied by the test …
    assert "Rent for two months" in page  # … and what was typed elsewhere is kept
    assert Case.objects.count() == 0 and set(settings.ZBOR_PRIVATE_ROOT.glob("*")) == before


def test_a_failure_after_the_files_are_sealed_deletes_them(client, keys, relocation, settings, monkeypatch):
    before = set(settings.ZBOR_PRIVATE_ROOT.glob("*"))
    data = applicants.application(relocation)
    data[applicants.question_field(relocation, QuestionKind.FILE)] = SimpleUploadedFile(
        "a.pdf", applicants.pdf_with_metadata("x")
    )

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(CaseDocument.objects, "bulk_create", broken)
    client.raise_request_exception = False
    response = client.post("/en/apply/relocation/", data)
    assert response.status_code == 500
    assert Case.objects.count() == 0 and set(settings.ZBOR_PRIVATE_ROOT.glob("*")) == before


def test_sending_the_same_form_twice_makes_one_case(client, keys, relocation):
    data = applicants.application(relocation)
    assert client.post("/en/apply/relocation/", data).status_code == 200
    again = client.post("/en/apply/relocation/", data)
    assert again.status_code == 200 and "already received" in again.content.decode()
    assert 'class="phrase"' not in again.content.decode()
    assert Case.objects.count() == 1


@override_settings(ZBOR_CASE_FILE_MAX_BYTES=1000)
def test_a_file_over_the_limit_is_refused_with_its_size(client, keys, relocation):
    data = applicants.application(relocation)
    data[applicants.question_field(relocation, QuestionKind.FILE)] = SimpleUploadedFile(
        "big.pdf", b"%PDF-" + b"0" * 2000
    )
    response = client.post("/en/apply/relocation/", data)
    assert response.status_code == 400 and "The file is too large" in response.content.decode()
    assert Case.objects.count() == 0


def test_without_a_foundation_key_applications_are_closed(client, relocation):
    assert "Applications are not open yet." in client.get("/en/apply/").content.decode()
    response = _apply(client, relocation)
    assert response.status_code == 503 and Case.objects.count() == 0


def test_an_inactive_or_unknown_programme_is_not_found(client, keys):
    applicants.programme("old", active=False)
    assert client.get("/en/apply/old/").status_code == 404
    assert client.get("/en/apply/nothing-here/").status_code == 404


def test_the_answer_never_carries_the_phrase_in_an_address_or_a_cookie(client, keys, relocation):
    response = _apply(client, relocation)
    phrase = _sent_phrase(response.content.decode())
    assert not response.has_header("Location")
    assert all(phrase.split()[0] not in morsel.value for morsel in response.cookies.values())
