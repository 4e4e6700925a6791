"""Admins set up the programmes people apply to, with the questions each adds; nobody else does."""

import pytest
from django.test import Client

from tests import factories
from zbor.accounts.models import AuditEvent
from zbor.cases.models import Programme, Question

pytestmark = pytest.mark.django_db

ADD = "/backoffice/cases/programme/add/?language=en"


def _form(**extra) -> dict:
    return {
        "name": "Legal help",
        "description": "Lawyers for people charged for their views.",
        "slug": "legal",
        "active": "on",
        "position": "3",
        "max_amount": "",
        "currency": "EUR",
        "questions-TOTAL_FORMS": "1",
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
        "questions-0-position": "0",
        "questions-0-kind": "date",
        "questions-0-required": "on",
        "questions-0-label": "When is the hearing?",
        "questions-0-help_text": "",
        "questions-0-choices": "",
        **extra,
    }


def test_an_admin_adds_a_programme_with_its_own_question():
    client = Client()
    client.force_login(factories.role_user("admin"))
    response = client.post(ADD, _form())
    assert response.status_code == 302, response.content.decode()[:2000]
    programme = Programme.objects.get(slug="legal")
    assert programme.safe_translation_getter("name", language_code="en") == "Legal help"
    (question,) = Question.objects.filter(programme=programme)
    assert (question.kind, question.required) == ("date", True)
    assert question.safe_translation_getter("label", language_code="en") == "When is the hearing?"
    assert AuditEvent.objects.filter(action="cases.programme.add").exists()
    listing = client.get("/backoffice/cases/programme/").content.decode()
    assert "Legal help" in listing


def test_a_bad_programme_is_refused_with_the_reason_and_nothing_written():
    client = Client()
    client.force_login(factories.role_user("admin"))
    response = client.post(ADD, _form(slug="not a slug", **{"questions-0-kind": "poem"}))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter a valid “slug”" in page and "Select a valid choice" in page
    assert not Programme.objects.exists() and not Question.objects.exists()


@pytest.mark.parametrize("role", [None, "editor", "finance"])
def test_no_other_role_sets_up_programmes(role):
    client = Client()
    client.force_login(factories.role_user(role) if role else factories.staff_user(superuser=False))
    assert client.post(ADD, _form()).status_code == 403
    assert client.get("/backoffice/cases/programme/").status_code == 403
    assert not Programme.objects.exists()
