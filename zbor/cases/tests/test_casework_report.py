"""The monthly figures of casework: counts, the median wait, the money approved — never a name."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.casework import caseworker
from zbor.cases import verification
from zbor.cases.case_views import answer_rows
from zbor.cases.models import Case, CaseStatus
from zbor.cases.report import casework_report
from zbor.cases.tests.casefactory import ANSWERS, programme, sealed_case

pytestmark = pytest.mark.django_db

NOV = datetime(2026, 11, 2, 9, tzinfo=UTC)


def _decided(case, status, days, amount=None):
    Case.objects.filter(pk=case.pk).update(
        status=status, decided_at=case.received_at + timedelta(days=days), approved_amount=amount
    )


def test_counts_by_programme_and_status_the_median_wait_and_what_was_approved():
    health = programme("health", "Health")
    approved = sealed_case(received_at=NOV)
    declined = sealed_case(received_at=NOV)
    sealed_case(received_at=NOV, programme=health)
    sealed_case(received_at=NOV - timedelta(days=40))  # October: not counted as received
    _decided(approved, CaseStatus.APPROVED, 4, amount=120000)
    _decided(declined, CaseStatus.DECLINED, 10)
    report = casework_report(today=date(2026, 11, 20))
    rows = {row.programme: row for row in report.rows}
    assert rows["Relocation"].received == 2 and rows["Health"].received == 1
    assert rows["Relocation"].statuses["approved"] == 1 and rows["Relocation"].statuses["declined"] == 1
    assert rows["Health"].statuses["new"] == 1 and rows["Health"].median_days is None
    assert rows["Relocation"].decided == 2 and rows["Relocation"].median_days == 7.0
    assert report.median_days == 7.0 and report.granted == {"EUR": 120000}
    assert "Kavaleva" not in repr(report)
    assert casework_report(today=date(2026, 12, 1)).rows == []


def test_a_purged_case_still_counts():
    from zbor.cases.retention import purge_case

    anna, boris = caseworker("anna"), caseworker("boris")
    case = sealed_case()
    decision = verification.propose_decision(case, outcome="decline", reason="no", by=anna)
    verification.confirm_decision(decision, by=boris)
    purge_case(case, by=anna)
    (row,) = casework_report().rows
    assert row.statuses["declined"] == 1 and row.decided == 1


def test_the_answers_are_shown_under_their_questions():
    rows = dict(answer_rows(ANSWERS))
    assert rows["When were you released?"] == "2026-05-14"
    assert "Aliaksandra Kavaleva" in rows.values() and "currency" not in rows
    assert any("1,200" in value for value in rows.values())
    assert answer_rows({"odd": "shape"}) == [("odd", "shape")]


def test_the_core_answers_come_in_the_order_and_words_of_the_form(monkeypatch):
    from zbor.cases import case_views

    labels = {"name": "How should we address you?", "location": "Where are you now?", "story": "What happened?"}
    monkeypatch.setattr(case_views, "_core_labels", lambda: labels)
    rows = answer_rows(ANSWERS)
    assert [question for question, _answer in rows[:3]] == list(labels.values())
    assert rows[-1] == ("When were you released?", "2026-05-14")


def test_grants_paid_this_month_are_counted():
    from tests import factories
    from tests.backoffice import _pdf
    from zbor.cases import outcomes
    from zbor.cases.tests.casefactory import add_roles
    from zbor.disbursements import services as payouts
    from zbor.donations.services import record_demo_donation

    anna = add_roles(caseworker("anna"), "finance")
    case = sealed_case()
    Case.objects.filter(pk=case.pk).update(
        status=CaseStatus.APPROVED, approved_amount=30000, decided_at=case.received_at
    )
    fund = factories.fund(needs=(100000,))
    record_demo_donation(fund, amount=100000, need=fund.needs.get())
    payout = outcomes.grant_from_fund(
        case, need=fund.needs.get(), amount=25000, channel="cash", recipient="A.", by=anna
    )
    assert casework_report().paid == {}
    payouts.approve_payout(payout, by=factories.role_user("finance"))
    payouts.mark_paid(payout, by=anna, proof=_pdf())
    report = casework_report()
    assert report.paid == {"EUR": 25000} and report.granted == {"EUR": 30000}
