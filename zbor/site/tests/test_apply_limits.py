"""Abuse controls on the application form: the donate path's proof of work when JavaScript is
on; without it (Tor Browser at "safest") a stricter per-client limit and one for everyone
together; size limits per file, per request and per case. A refusal keeps what was typed and
stores nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from tests import applicants, factories
from tests.casework import foundation_keys
from zbor import challenge
from zbor.cases import applying
from zbor.cases.models import Case, QuestionKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def relocation():
    foundation_keys()
    return applicants.programme()


def _apply(client, made, **answers):
    return client.post(f"/en/apply/{made.slug}/", applicants.application(made, **answers))


def _with_proof(made, **answers):
    return applicants.application(made, challenge=factories.solved_challenge(challenge.create()), **answers)


@override_settings(ZBOR_APPLICATIONS_WITHOUT_PROOF_PER_CLIENT_HOUR=2, ZBOR_APPLICATIONS_PER_CLIENT_HOUR=3)
def test_without_javascript_a_client_may_apply_a_few_times_then_waits_with_its_text_kept(client, relocation):
    assert _apply(client, relocation).status_code == 200
    assert _apply(client, relocation).status_code == 200
    refused = _apply(client, relocation, story="A long story typed over an hour. TYPED-MARKER")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    page = refused.content.decode()
    assert "Several applications were sent from your connection" in page
    assert "With JavaScript on" in page and "TYPED-MARKER" in page  # nothing typed is lost
    assert Case.objects.count() == 2
    # With the proof of work the same client goes on, up to its own limit.
    assert client.post("/en/apply/relocation/", _with_proof(relocation)).status_code == 200
    assert Case.objects.count() == 3


@override_settings(ZBOR_APPLICATIONS_WITHOUT_PROOF_PER_HOUR=2)
def test_everyone_together_has_a_limit_without_the_proof_of_work(client, relocation):
    others = [client.__class__(REMOTE_ADDR=f"198.51.100.{n}") for n in range(3)]
    assert _apply(others[0], relocation).status_code == 200
    assert _apply(others[1], relocation).status_code == 200
    refused = _apply(others[2], relocation)
    assert refused.status_code == 429 and "turn JavaScript on" in refused.content.decode()
    assert others[2].post("/en/apply/relocation/", _with_proof(relocation)).status_code == 200
    assert Case.objects.count() == 3


@override_settings(ZBOR_APPLICATIONS_WITHOUT_PROOF_PER_CLIENT_HOUR=1)
def test_a_proof_is_accepted_once_and_a_forged_one_counts_as_none(client, relocation):
    data = _with_proof(relocation)
    assert client.post("/en/apply/relocation/", data).status_code == 200
    # The same solved challenge on another form: no proof, so the stricter limit counts it.
    replay = {**applicants.application(relocation), "challenge": data["challenge"]}
    assert client.post("/en/apply/relocation/", replay).status_code == 200
    forged = {**applicants.application(relocation), "challenge": "bm90IGEgcHJvb2Y="}
    assert client.post("/en/apply/relocation/", forged).status_code == 429


def test_a_request_larger_than_memory_uploads_says_so(client, relocation, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 2000
    data = applicants.application(relocation)
    data[applicants.question_field(relocation, QuestionKind.FILE)] = SimpleUploadedFile(
        "a.pdf", b"%PDF-" + b"1" * 4000
    )
    response = client.post("/en/apply/relocation/", data)
    assert response.status_code == 400 and "so the files were not received" in response.content.decode()
    assert Case.objects.count() == 0


@override_settings(ZBOR_CASE_MAX_DOCUMENTS=1)
def test_a_case_takes_a_limited_number_of_documents(relocation):
    upload = applying.Upload(data=b"%PDF-1", content_type="application/pdf", name="a.pdf")
    case, _phrase = applying.submit_application(relocation, answers={}, uploads=[upload], language="en")
    with pytest.raises(applying.ApplicationRefused, match="at most 1 documents"):
        applying.answer(case, text="", uploads=[upload])
    with pytest.raises(applying.ApplicationRefused):
        applying.submit_application(relocation, answers={}, uploads=[upload, upload], language="en")
    assert Case.objects.count() == 1


@override_settings(ZBOR_CASE_MAX_BYTES=10)
def test_a_case_takes_a_limited_amount_of_data(relocation):
    upload = applying.Upload(data=b"%PDF-" + b"1" * 10, content_type="application/pdf", name="a.pdf")
    with pytest.raises(applying.ApplicationRefused, match="at most 0 MB together"):
        applying.submit_application(relocation, answers={}, uploads=[upload], language="en")


def test_answers_longer_than_allowed_are_refused(client, relocation):
    response = _apply(client, relocation, story="x" * 8001, name="n" * 121)
    assert response.status_code == 400 and "Ensure this value has at most 8000 characters" in response.content.decode()
    assert Case.objects.count() == 0
