"""Exports an accountant accepts: dated by when the money moved, with the bank's references,
need and channel names, who requested and approved each payout, and no formula in any cell."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests import factories
from tests.helpers import CAMPAIGN
from zbor.campaigns.models import Need
from zbor.disbursements import services as payouts
from zbor.disbursements.tests.test_payouts import receipt as proof
from zbor.donations.models import Donation, DonationStatus
from zbor.donations.services import record_demo_donation

pytestmark = pytest.mark.django_db

EXPORT = "/backoffice/donations/donation/export/"


def at(year, month, day, hour=12):
    return mock.patch(
        "django.utils.timezone.now", return_value=datetime(year, month, day, hour, tzinfo=ZoneInfo("UTC"))
    )


def export(client, kind, start="", end=""):
    response = client.get(EXPORT, {"kind": kind, "start": start, "end": end})
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def finance(client, funded_campaign):
    client.force_login(factories.role_user("finance", "fin-export"))
    return client


def bank_gift_pledged_in_january_booked_on_2_march(client, campaign) -> Donation:
    need = Need.objects.get(campaign=campaign, position=1)
    with at(2026, 1, 10):
        response = client.post(
            f"/en/campaigns/{CAMPAIGN}/donate/",
            {"amount": "40", "method": "bank", "need": need.pk, "idempotency_key": uuid.uuid4().hex},
        )
    assert response.status_code == 302
    donation = Donation.objects.get(provider="bank")
    statement = (
        f"date,amount,currency,reference,transaction_id\n2026-03-02,40.00,EUR,{donation.checkout_reference},BANK-77\n"
    )
    with at(2026, 3, 5):
        client.post(
            "/backoffice/donations/bankstatement/import/",
            {"file": SimpleUploadedFile("statement.csv", statement.encode())},
        )
    donation.refresh_from_db()
    assert donation.status == DonationStatus.SUCCEEDED
    return donation


def test_a_bank_transfer_is_exported_by_the_day_the_bank_booked_it(client, finance, funded_campaign):
    """Pledged on 10 January, booked by the bank on 2 March, imported on 5 March: it belongs to
    2 March, with its reference and statement line, its need and method by name."""
    donation = bank_gift_pledged_in_january_booked_on_2_march(client, funded_campaign)
    [row] = export(finance, "donations", "2026-03-02", "2026-03-02")
    assert row["donation"] == str(donation.public_id)[:8]
    assert row["arrived"] == "2026-03-02" and row["started"].startswith("2026-01-10")
    assert row["succeeded"].startswith("2026-03-05")
    assert row["bank_reference"] == donation.checkout_reference and row["statement_line"] == "csv:BANK-77"
    assert row["need"] == "Need 2" and row["method"] == "Bank transfer" and row["amount"] == "40.00"
    assert export(finance, "donations", "2026-01-01", "2026-01-31") == []  # not when it was started
    assert export(finance, "donations", "2026-03-03", "2026-03-31") == []  # nor when it was imported


def test_a_card_or_demo_gift_is_exported_by_the_day_it_was_confirmed(client, finance, funded_campaign):
    with at(2026, 4, 30, 23):
        donation = record_demo_donation(funded_campaign, amount=1234)
    rows = export(finance, "donations", "2026-04-30", "2026-04-30")
    assert [r["donation"] for r in rows] == [str(donation.public_id)[:8]]
    assert rows[0]["method"] == "Test payment (demo)" and rows[0]["bank_reference"] == rows[0]["statement_line"] == ""
    assert rows[0]["need"] == ""  # "where it is needed most"


def test_a_pending_pledge_is_not_exported(client, finance, funded_campaign):
    client.post(f"/en/campaigns/{CAMPAIGN}/donate/", {"amount": "9", "method": "bank", "idempotency_key": "k" * 32})
    assert Donation.objects.filter(amount=900, status=DonationStatus.PENDING).exists()
    assert not [r for r in export(finance, "donations") if r["amount"] == "9.00"]


def test_payouts_are_exported_by_the_day_they_were_paid_with_who_requested_and_approved_them(finance, funded_campaign):
    need = Need.objects.get(campaign=funded_campaign, position=0)
    requester, approver = factories.role_user("finance", "olga"), factories.role_user("finance", "piotr")
    record_demo_donation(funded_campaign, amount=30000, need=need)
    with at(2026, 6, 1):
        payout = payouts.request_payout(
            need, amount=30000, channel="bank_abroad", recipient="Landlord GE00 1234", purpose="Rent", by=requester
        )
        payouts.approve_payout(payout, by=approver)
    with at(2026, 6, 9):
        payouts.mark_paid(payout, by=requester, proof=proof())
    [row] = export(finance, "payouts", "2026-06-09", "2026-06-09")
    assert row["payout"] == str(payout.pk) and row["paid"].startswith("2026-06-09")
    assert row["requested_by"] == "olga" and row["approved_by"] == "piotr" and row["paid_by"] == "olga"
    assert row["channel"] == "Bank account abroad" and row["need"] == "Need 1" and row["amount"] == "300.00"
    assert "Landlord" not in str(row) and "Rent" not in str(row)
    assert export(finance, "payouts", "2026-06-01", "2026-06-08") == []  # requested then, not paid


def test_no_cell_can_run_as_a_formula(finance, funded_campaign):
    need = Need.objects.get(campaign=funded_campaign, position=1)
    need.set_current_language("en")
    need.description = '=HYPERLINK("http://evil.example","click")'
    need.save()
    record_demo_donation(funded_campaign, amount=500, need=need)
    [row] = [r for r in export(finance, "donations") if r["amount"] == "5.00"]
    assert row["need"] == "'" + need.description
    assert row["amount"] == "5.00"


def test_ledger_transfers_name_their_accounts(finance, funded_campaign):
    need = Need.objects.get(campaign=funded_campaign, position=1)
    with at(2026, 7, 7):
        record_demo_donation(funded_campaign, amount=700, need=need)
    [row] = export(finance, "ledger", "2026-07-07", "2026-07-07")
    assert row["debit"] == "provider:demo:EUR" and row["debit_name"] == "Held by Test payment (demo) (EUR)"
    assert row["credit"] == f"need:{need.pk}" and row["credit_name"] == "Need: Need 2 (Help to start again)"
    assert row["amount"] == "7.00"
