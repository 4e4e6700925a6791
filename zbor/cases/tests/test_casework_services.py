"""Casework services: reading needs the key, four eyes on identity and decisions, what an approved
case becomes, and purge."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import IntegrityError, transaction

from tests import factories
from tests.casework import caseworker, foundation_keys
from zbor import private_files
from zbor.accounts.models import AuditEvent
from zbor.campaigns.models import Status
from zbor.cases import outcomes, retention, verification, work
from zbor.cases.models import (
    Case,
    CaseCheck,
    CaseDecision,
    CaseDocument,
    CaseMessage,
    CaseNote,
    CaseStatus,
    CheckItem,
    DecisionStatus,
    Outcome,
)
from zbor.cases.tests.casefactory import ANSWERS, DOCUMENT, MESSAGE, add_roles, sealed_case
from zbor.disbursements.models import PayoutStatus

pytestmark = pytest.mark.django_db


def _verified(case, anna, boris):
    verification.confirm_check(case, item=CheckItem.IDENTITY, note="passport seen on video", by=anna)
    verification.confirm_check(case, item=CheckItem.IDENTITY, by=boris)
    for item in (CheckItem.DOCUMENTS, CheckItem.STORY, CheckItem.RISK):
        verification.confirm_check(case, item=item, by=anna)


def _approved(case, anna, boris, amount=100000):
    _verified(case, anna, boris)
    decision = verification.propose_decision(case, outcome=Outcome.APPROVE, amount=amount, by=anna)
    verification.confirm_decision(decision, by=boris)
    case.refresh_from_db()
    return case


def test_reading_needs_the_key_and_is_audited_without_content():
    _fk, private = foundation_keys()
    anna = caseworker("anna")
    case = sealed_case()
    with pytest.raises(work.CaseLocked):
        work.read_case(case, by=anna, key=None)
    assert not AuditEvent.objects.filter(action="case.read").exists()
    content = work.read_case(case, by=anna, key=private)
    assert content.answers == ANSWERS
    assert [m.text for m in content.messages] == [MESSAGE]
    data, opened = work.read_document(case.documents.get(), by=anna, key=private)
    assert data == DOCUMENT and opened.name == "release.pdf"
    events = AuditEvent.objects.filter(action__in=["case.read", "case.document.read"])
    assert events.count() == 2
    for event in events:
        assert "Kavaleva" not in str(event.fields) and event.actor == anna


@pytest.mark.parametrize("role", ["editor", "admin", "finance"])
def test_other_roles_read_nothing_even_with_the_key(role):
    _fk, private = foundation_keys()
    case = sealed_case()
    with pytest.raises(PermissionDenied):
        work.read_case(case, by=factories.role_user(role), key=private)
    with pytest.raises(PermissionDenied):
        work.add_note(case, text="x", by=factories.role_user(role))


def test_notes_and_questions_are_sealed_and_a_question_waits_for_the_applicant():
    _fk, private = foundation_keys()
    anna = caseworker("anna")
    case = sealed_case()
    work.add_note(case, text="Called her lawyer: confirms", by=anna)
    work.ask_applicant(case, template="court_documents", text="The June summons too, please.", by=anna)
    assert "lawyer" not in CaseNote.objects.get().body
    question = CaseMessage.objects.get(direction="to_applicant")
    assert question.template == "court_documents" and "summons" not in question.body
    case.refresh_from_db()
    assert case.status == CaseStatus.NEEDS_INFORMATION
    content = work.read_case(case, by=anna, key=private)
    assert content.notes[0].text == "Called her lawyer: confirms"
    # The question as the applicant reads it: in their language (ru), with the added text.
    assert "The June summons too, please." in content.messages[-1].text
    assert "добавьте любой документ" in content.messages[-1].text
    with pytest.raises(work.CaseworkError):
        work.ask_applicant(case, template="no-such-template", by=anna)


def test_identity_needs_two_different_caseworkers():
    anna, boris = caseworker("anna"), caseworker("boris")
    case = sealed_case()
    verification.confirm_check(case, item=CheckItem.IDENTITY, by=anna)
    with pytest.raises(work.CaseworkError, match="already confirmed"):
        verification.confirm_check(case, item=CheckItem.IDENTITY, by=anna)
    assert verification.check_counts(case)[CheckItem.IDENTITY] == 1
    for item in (CheckItem.DOCUMENTS, CheckItem.STORY, CheckItem.RISK):
        verification.confirm_check(case, item=item, by=anna)
    with pytest.raises(work.CaseworkError, match="checklist"):
        verification.propose_decision(case, outcome=Outcome.APPROVE, amount=1000, by=anna)
    verification.confirm_check(case, item=CheckItem.IDENTITY, by=boris)
    assert verification.missing_checks(case) == []
    # The database says so too, whoever calls it.
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseCheck.objects.create(case=case, item=CheckItem.IDENTITY, by=anna)


def test_nobody_decides_alone():
    anna, boris = caseworker("anna"), caseworker("boris")
    case = sealed_case()
    _verified(case, anna, boris)
    decision = verification.propose_decision(case, outcome=Outcome.APPROVE, amount=90000, by=anna)
    with pytest.raises(work.CaseworkError, match="second, different"):
        verification.confirm_decision(decision, by=anna)
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_VERIFICATION and case.approved_amount is None
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseDecision.objects.filter(pk=decision.pk).update(confirmed_by=anna)
    verification.confirm_decision(decision, by=boris)
    case.refresh_from_db()
    assert case.status == CaseStatus.APPROVED and case.approved_amount == 90000 and case.decided_at
    decision.refresh_from_db()
    assert decision.status == DecisionStatus.CONFIRMED and decision.confirmed_by == boris


def test_declining_needs_a_reason_sealed_and_no_checklist():
    _fk, private = foundation_keys()
    anna, boris = caseworker("anna"), caseworker("boris")
    case = sealed_case()
    with pytest.raises(work.CaseworkError):
        verification.propose_decision(case, outcome=Outcome.DECLINE, by=anna)
    decision = verification.propose_decision(
        case, outcome=Outcome.DECLINE, reason="Story contradicts court papers", by=anna
    )
    assert "contradicts" not in CaseDecision.objects.get().reason
    verification.confirm_decision(decision, by=boris)
    case.refresh_from_db()
    assert case.status == CaseStatus.DECLINED
    assert work.read_case(case, by=anna, key=private).reasons[decision.pk] == "Story contradicts court papers"
    with pytest.raises(work.CaseworkError):
        work.ask_applicant(case, template="where_now", by=anna)


def test_an_approved_case_becomes_a_draft_campaign_with_the_verified_identity():
    from zbor.campaigns.private import read_private

    _fk, private = foundation_keys()
    anna, boris = caseworker("anna"), caseworker("boris")
    case = _approved(sealed_case(), anna, boris, amount=120000)
    with pytest.raises(PermissionDenied):  # a caseworker without the editor's role
        outcomes.create_campaign(case, by=anna, key=private)
    anna = add_roles(anna, "editor")
    with pytest.raises(work.CaseLocked):
        outcomes.create_campaign(case, by=anna, key=None)
    campaign = outcomes.create_campaign(case, by=anna, key=private)
    assert campaign.status == Status.DRAFT and not campaign.is_fund
    details = read_private(campaign.beneficiary, by=anna)
    assert details.real_name == "Aliaksandra Kavaleva"
    assert "@sasha_k" in details.contacts and case.code in details.verification_notes
    assert "Kavaleva" not in campaign.beneficiary.real_name_secret  # encrypted the campaigns way
    assert campaign.beneficiary.at_risk and not campaign.beneficiary.consent_recorded
    need = campaign.needs.get()
    assert need.amount == 120000 and "lawyer" in need.safe_translation_getter("description", any_language=True)
    assert "Gomel" in campaign.safe_translation_getter("story", language_code="ru")
    case.refresh_from_db()
    assert case.campaign == campaign
    with pytest.raises(work.CaseworkError):
        outcomes.create_campaign(case, by=anna, key=private)


def test_a_grant_from_a_fund_is_a_payout_request_naming_the_case():
    anna, boris = caseworker("anna"), caseworker("boris")
    case = _approved(sealed_case(), anna, boris, amount=30000)
    from zbor.donations.services import record_demo_donation

    fund = factories.fund(needs=(100000,))
    need = fund.needs.get()
    with pytest.raises(work.CaseworkError, match="holds only"):  # nothing given to it yet
        outcomes.grant_from_fund(
            case, need=need, amount=30000, channel="cash", recipient="A. K.", by=add_roles(anna, "finance")
        )
    record_demo_donation(fund, amount=100000, need=need)
    with pytest.raises(PermissionDenied):  # asking for money is finance's
        outcomes.grant_from_fund(case, need=need, amount=30000, channel="cash", recipient="A. K.", by=anna)
    anna = add_roles(anna, "finance")
    with pytest.raises(work.CaseworkError):
        outcomes.grant_from_fund(case, need=need, amount=30001, channel="cash", recipient="A. K.", by=anna)
    payout = outcomes.grant_from_fund(case, need=need, amount=30000, channel="cash", recipient="A. K.", by=anna)
    assert payout.status == PayoutStatus.REQUESTED and case.code in payout.purpose
    case.refresh_from_db()
    assert case.payout == payout
    outcomes.close_case(case, by=boris)
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED


def test_purge_leaves_no_content_and_the_audit_names_no_value(django_capture_on_commit_callbacks):
    _fk, private = foundation_keys()
    anna, boris = caseworker("anna"), caseworker("boris")
    case = sealed_case()
    work.add_note(case, text="note text", by=anna)
    verification.confirm_check(case, item=CheckItem.STORY, note="asked Viasna", by=anna)
    decision = verification.propose_decision(case, outcome=Outcome.DECLINE, reason="no", by=anna)
    verification.confirm_decision(decision, by=boris)
    stored = case.documents.get().stored_name
    with pytest.raises(PermissionDenied):
        work.read_case(case, by=factories.role_user("admin"), key=private)
    with django_capture_on_commit_callbacks(execute=True):
        retention.purge_case(case, by=anna)
    case.refresh_from_db()
    assert case.purged_at and case.answers == ""
    assert not CaseDocument.objects.exists() and not CaseMessage.objects.exists() and not CaseNote.objects.exists()
    assert set(CaseCheck.objects.values_list("note", flat=True)) == {""}
    assert set(CaseDecision.objects.values_list("reason", flat=True)) == {""}
    assert not (private_files.settings.ZBOR_PRIVATE_ROOT / stored).exists()
    event = AuditEvent.objects.get(action="case.purge")
    assert event.actor == anna and "Kavaleva" not in str(event.fields)
    with pytest.raises(work.CaseworkError):
        work.read_case(case, by=anna, key=private)
    assert case.status == CaseStatus.DECLINED  # the report still counts it


def test_old_finished_cases_are_purged_by_the_daily_task_and_the_command(settings):
    from datetime import timedelta

    from django.utils import timezone

    from zbor.cases.tasks import purge_old_cases

    settings.ZBOR_CASE_RETENTION_DAYS = 90
    old = sealed_case(status=CaseStatus.DECLINED)
    fresh = sealed_case(status=CaseStatus.WITHDRAWN)
    approved = sealed_case(status=CaseStatus.APPROVED)
    Case.objects.filter(pk__in=[old.pk, approved.pk]).update(updated_at=timezone.now() - timedelta(days=91))
    purge_old_cases.call_local()
    assert list(Case.objects.filter(purged_at__isnull=False)) == [old]
    call_command("purge_case", fresh.code.lower(), "--yes")
    fresh.refresh_from_db()
    assert fresh.purged_at and fresh.answers == ""
    approved.refresh_from_db()
    assert approved.purged_at is None and approved.answers
    assert AuditEvent.objects.filter(action="case.purge", actor__isnull=True).count() == 2


def test_a_key_that_is_not_the_foundation_key_opens_nothing():
    from nacl.public import PrivateKey

    foundation_keys()
    case = sealed_case()
    with pytest.raises(work.CaseworkError, match="does not open"):
        work.read_case(case, by=caseworker("anna"), key=PrivateKey.generate())
    with pytest.raises(work.CaseworkError, match="does not open"):
        work.read_document(case.documents.get(), by=caseworker("boris"), key=PrivateKey.generate())
    assert not AuditEvent.objects.filter(action__in=["case.read", "case.document.read"]).exists()
