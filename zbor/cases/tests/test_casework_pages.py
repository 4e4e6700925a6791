"""The caseworkers' pages: two caseworkers take a case from the queue to a campaign and a grant
through the real admin, and a session that is not unlocked shows no plaintext."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.casework import caseworker, unlock
from zbor.accounts.models import AuditEvent
from zbor.campaigns.models import Status
from zbor.cases.models import Case, CaseStatus
from zbor.cases.tests.casefactory import ANSWERS, DOCUMENT, MESSAGE, add_roles, sealed_case
from zbor.disbursements.models import Payout, PayoutStatus

pytestmark = pytest.mark.django_db

#: Bits of plaintext that must never be on a page without the unlocked key.
SECRETS = ["Kavaleva", "Gomel", "Vilnius", "sasha_k", "court decision next week", "lawyer confirms"]


def act(case, action):
    return reverse("admin:cases_case_act", args=[case.pk, action])


def page(case):
    return reverse("admin:cases_case_change", args=[case.pk])


def test_two_caseworkers_take_a_case_from_the_queue_to_a_campaign_and_a_grant():
    from zbor.donations.services import record_demo_donation

    anna = add_roles(caseworker("anna"), "editor", "finance")
    boris = caseworker("boris")
    case = sealed_case()
    fund = factories.fund(needs=(500000,))
    record_demo_donation(fund, amount=500000, need=fund.needs.get())
    a, b = Client(), Client()
    assert unlock(a, anna).status_code == 302
    assert unlock(b, boris).status_code == 302

    # The queue: plain columns, nothing opened.
    queue = a.get(reverse("admin:cases_case_changelist") + "?open=yes")
    assert case.code in queue.content.decode() and "Kavaleva" not in queue.content.decode()
    a.post(reverse("admin:cases_case_changelist"), {"action": "assign_to_me", "_selected_action": [case.pk]})
    case.refresh_from_db()
    assert case.assignee == anna

    # Reading, unlocked: the answers, the message, the document (a download), all audited.
    body = a.get(page(case)).content.decode()
    assert ANSWERS["core"]["name"] in body and MESSAGE in body and "release.pdf" in body
    document = case.documents.get()
    download = a.get(reverse("admin:cases_case_document", args=[case.pk, document.pk]))
    assert download.content == DOCUMENT and download["Content-Disposition"].startswith("attachment")
    assert AuditEvent.objects.filter(action="case.read", actor=anna).exists()
    assert AuditEvent.objects.filter(action="case.document.read", actor=anna).count() == 1

    # A note and a question.
    a.post(act(case, "note"), {"text": "Her lawyer confirms the dates"})
    a.post(act(case, "ask"), {"template": "court_documents", "text": ""})
    case.refresh_from_db()
    assert case.status == CaseStatus.NEEDS_INFORMATION

    # The checklist: identity twice, by two people; anna cannot tick it twice.
    a.post(act(case, "check"), {"item": "identity", "note": "video call, passport"})
    refused = a.post(act(case, "check"), {"item": "identity"}, follow=True)
    assert "already confirmed" in refused.content.decode()
    b.post(act(case, "check"), {"item": "identity"})
    for item in ("documents", "story", "risk"):
        a.post(act(case, "check"), {"item": item})
    assert case.checks.count() == 5

    # The decision: anna proposes, anna cannot confirm, boris does.
    a.post(act(case, "propose"), {"outcome": "approve", "amount": "1200", "reason": ""})
    alone = a.post(act(case, "confirm"), {"confirm": "on"}, follow=True)
    assert "second, different caseworker" in alone.content.decode()
    b.post(act(case, "confirm"), {"confirm": "on"})
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED and case.approved_amount == 120000

    # What it becomes: a draft campaign and a grant, linked from the case.
    preview = a.get(act(case, "campaign")).content.decode()
    assert ANSWERS["core"]["name"] in preview and "Gomel" in preview
    a.post(act(case, "campaign"), {"at_risk": "on", "confirm": "on"})
    a.post(act(case, "grant"), {"need": fund.needs.get().pk, "amount": "1200", "channel": "cash", "recipient": "A.K."})
    case.refresh_from_db()
    assert case.campaign.status == Status.DRAFT and case.campaign.beneficiary.reference == case.code
    payout = Payout.objects.get()
    assert case.payout == payout and payout.status == PayoutStatus.REQUESTED and case.code in payout.purpose
    body = a.get(page(case)).content.decode()
    assert reverse("admin:campaigns_campaign_change", args=[case.campaign_id]) in body
    assert reverse("admin:disbursements_payout_change", args=[payout.pk]) in body


def test_a_locked_session_shows_no_plaintext_and_opens_nothing():
    anna = caseworker("anna")
    case = sealed_case()
    client = Client()
    client.force_login(anna)  # signed in, never unlocked
    body = client.get(page(case)).content.decode()
    assert "Unlock casework to read" in body and reverse("admin:cases_unlock") in body
    for secret in SECRETS:
        assert secret not in body
    document = case.documents.get()
    refused = client.get(reverse("admin:cases_case_document", args=[case.pk, document.pk]))
    assert refused.status_code == 302 and DOCUMENT not in refused.content
    preview = client.get(act(case, "campaign")).content.decode()
    assert "Kavaleva" not in preview
    assert not AuditEvent.objects.filter(action__startswith="case.read").exists()
    assert not AuditEvent.objects.filter(action="case.document.read").exists()


def test_after_locking_the_page_shows_no_plaintext_again():
    anna = caseworker("anna")
    case = sealed_case()
    client = Client()
    unlock(client, anna)
    assert "Kavaleva" in client.get(page(case)).content.decode()
    client.post(reverse("admin:cases_lock"))
    body = client.get(page(case)).content.decode()
    assert "Kavaleva" not in body and "Unlock casework to read" in body


def test_a_cookie_without_its_server_half_opens_nothing():
    """The browser's half alone (its session row deleted, e.g. the role taken away) reads nothing."""
    from zbor.cases.models import CaseSession

    anna = caseworker("anna")
    case = sealed_case()
    client = Client()
    unlock(client, anna)
    CaseSession.objects.all().delete()
    assert "Kavaleva" not in client.get(page(case)).content.decode()


def test_the_monthly_figures_name_nobody():
    anna, boris = caseworker("anna"), caseworker("boris")
    sealed_case()
    declined = sealed_case()
    from zbor.cases import verification

    decision = verification.propose_decision(declined, outcome="decline", reason="no", by=anna)
    verification.confirm_decision(decision, by=boris)
    client = Client()
    client.force_login(anna)
    body = client.get(reverse("admin:cases_case_report")).content.decode()
    assert "Relocation" in body and "Kavaleva" not in body and declined.code not in body
    assert Case.objects.count() == 2


def test_purging_from_the_page_needs_the_code_typed_and_leaves_no_content(django_capture_on_commit_callbacks):
    anna = caseworker("anna")
    case = sealed_case()
    client = Client()
    unlock(client, anna)
    wrong = client.post(act(case, "purge"), {"code": "ZC-AAAA-AAAA"})
    assert wrong.status_code == 200 and "not this case" in wrong.content.decode()
    case.refresh_from_db()
    assert case.purged_at is None
    with django_capture_on_commit_callbacks(execute=True):
        client.post(act(case, "purge"), {"code": case.code.lower()})
    case.refresh_from_db()
    assert case.purged_at and case.answers == "" and not case.documents.exists() and not case.messages.exists()
    body = client.get(page(case)).content.decode()
    assert "was purged" in body
    for secret in SECRETS:
        assert secret not in body


def test_the_unlock_link_brings_the_caseworker_back_to_the_case():
    from tests.casework import PASSPHRASE

    anna = caseworker("anna")
    case = sealed_case()
    client = Client()
    client.force_login(anna)
    queue = client.get(reverse("admin:cases_case_changelist")).content.decode()
    assert reverse("admin:cases_case_report") in queue and reverse("admin:cases_unlock") in queue
    link = reverse("admin:cases_unlock") + "?next=" + page(case)
    assert link in client.get(page(case)).content.decode()
    response = client.post(link, {"passphrase": PASSPHRASE})
    assert response.status_code == 302 and response["Location"] == page(case)
    assert "Kavaleva" in client.get(page(case)).content.decode()


def test_cases_are_assigned_to_a_colleague_after_a_confirmation_page():
    anna, boris = caseworker("anna"), caseworker("boris")
    editor = factories.role_user("editor")
    first, second = sealed_case(), sealed_case()
    client = Client()
    client.force_login(anna)
    url = reverse("admin:cases_case_changelist")
    selected = {"action": "assign_to", "_selected_action": [first.pk, second.pk]}
    confirm = client.post(url, selected).content.decode()
    assert first.code in confirm and "boris" in confirm and editor.username not in confirm
    client.post(url, {**selected, "post": "yes", "assignee": boris.pk})
    assert set(Case.objects.values_list("assignee", flat=True)) == {boris.pk}
    refused = client.post(url, {**selected, "post": "yes", "assignee": editor.pk})
    assert refused.status_code == 200  # not offered: the form says so, nothing changes
    assert set(Case.objects.values_list("assignee", flat=True)) == {boris.pk}
    assert AuditEvent.objects.filter(action="case.assign", actor=anna).count() == 2
