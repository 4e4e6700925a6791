"""Every casework address × every role: only caseworkers open any of it, and a refusal is the
same 403 for a case that exists and one that does not (nobody counts cases by trying ids)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.casework import caseworker
from zbor.cases.tests.casefactory import sealed_case

pytestmark = pytest.mark.django_db

ROLES = ["none", "editor", "finance", "admin", "caseworker"]
MISSING = 987654
STEPS = ["note", "ask", "check", "propose", "confirm", "withdraw", "campaign", "grant", "close", "purge"]

# GET of each address: real case / missing case. A caseworker's steps answer 200 (the form; a
# step the case's state refuses says so when posted); a missing case is 404 (or Django's
# "does not exist" redirect, 302).
TABLE = {
    "changelist": ["403", "403", "403", "403", "200"],
    "report": ["403", "403", "403", "403", "200"],
    "change": ["403/403", "403/403", "403/403", "403/403", "200/404"],
    "history": ["403/403", "403/403", "403/403", "403/403", "200/302"],
    "delete": ["403/403", "403/403", "403/403", "403/403", "403/403"],
    "add": ["403", "403", "403", "403", "403"],
    "document": ["403/403", "403/403", "403/403", "403/403", "302/404"],
    **{f"act:{step}": ["403/403", "403/403", "403/403", "403/403", "200/404"] for step in STEPS},
    "act:nonsense": ["403/403", "403/403", "403/403", "403/403", "404/404"],
}


def _urls(case) -> dict[str, list[str]]:
    doc = case.documents.get()
    urls = {
        "changelist": [reverse("admin:cases_case_changelist")],
        "report": [reverse("admin:cases_case_report")],
        "add": [reverse("admin:cases_case_add")],
        "document": [
            reverse("admin:cases_case_document", args=[case.pk, doc.pk]),
            reverse("admin:cases_case_document", args=[MISSING, MISSING]),
        ],
    }
    for name in ("change", "history", "delete"):
        urls[name] = [reverse(f"admin:cases_case_{name}", args=[pk]) for pk in (case.pk, MISSING)]
    for step in [*STEPS, "nonsense"]:
        urls[f"act:{step}"] = [reverse("admin:cases_case_act", args=[pk, step]) for pk in (case.pk, MISSING)]
    return urls


def _user(role):
    if role == "none":
        return factories.staff_user(superuser=False)
    return caseworker() if role == "caseworker" else factories.role_user(role)


def test_every_casework_address_answers_each_role_as_the_table_says():
    case = sealed_case()
    client = Client(raise_request_exception=False)
    observed: dict[str, list[str]] = {}
    for role in ROLES:
        client.force_login(_user(role))
        for key, urls in _urls(case).items():
            observed.setdefault(key, []).append("/".join(str(client.get(url).status_code) for url in urls))
    assert observed == TABLE


@pytest.mark.parametrize("role", ["none", "editor", "finance", "admin"])
def test_the_casework_app_is_hidden_from_other_roles(role):
    client = Client()
    client.force_login(_user(role))
    cases = reverse("admin:cases_case_changelist")
    assert cases not in client.get(reverse("admin:index")).content.decode()
    # The app's page is either refused or (for admins, who set up programmes) without cases.
    app = client.get(reverse("admin:app_list", args=["cases"]))
    assert app.status_code == 404 or cases not in app.content.decode()


@pytest.mark.parametrize("role", ["none", "editor", "finance", "admin"])
def test_other_roles_cannot_post_a_step(role):
    case = sealed_case()
    client = Client()
    client.force_login(_user(role))
    assert client.post(reverse("admin:cases_case_act", args=[case.pk, "note"]), {"text": "x"}).status_code == 403
    assert not case.notes.exists()


def test_a_caseworker_cannot_probe_sealed_columns_through_the_list():
    """Even the role that sees the list gets 400 for a lookup it does not offer (a count of rows
    would otherwise tell ciphertext or the phrase's hash apart, a character at a time)."""
    sealed_case()
    client = Client()
    client.force_login(caseworker())
    url = reverse("admin:cases_case_changelist")
    for lookup in ("answers__startswith=1", "phrase_hash__gte=a", "messages__body__regex=(", "assignee__email=x"):
        assert client.get(f"{url}?{lookup}").status_code == 400
    for declared in ("open=yes", "assigned=me", "status__exact=new", "q=ZC", "o=2"):
        assert client.get(f"{url}?{declared}").status_code == 200
