"""Bank statements as finance uploads them: references written sloppily, the same file twice."""

import io

import pytest

from tests import factories
from zbor.donations.bank_import import import_statement
from zbor.donations.models import BankStatementLine, DonationStatus, LineStatus
from zbor.donations.services import start_donation
from zbor.payments.bank import format_reference

pytestmark = pytest.mark.django_db


def csv_statement(*rows: str) -> bytes:
    return ("date,amount,currency,reference,transaction_id\n" + "".join(f"{r}\n" for r in rows)).encode()


def bank_pledge(campaign, amount: int, key: str):
    return start_donation(campaign, amount=amount, need=None, provider="bank", idempotency_key=key)


@pytest.mark.parametrize("before", ["Zbor", "Zbyszek", "for ZBOR:"])
def test_a_reference_typed_after_a_word_starting_like_one_matches_its_pledge(before):
    campaign = factories.campaign()
    pledge = bank_pledge(campaign, 2000, f"zb-{before}")
    text = f"{before} {format_reference(pledge.checkout_reference)}"
    report = import_statement(io.BytesIO(csv_statement(f"2026-11-28,20.00,EUR,{text},T1")), by=factories.staff_user())
    pledge.refresh_from_db()
    assert report.matched == 1 and pledge.status == DonationStatus.SUCCEEDED
    assert BankStatementLine.objects.get(key="csv:T1").status == LineStatus.MATCHED
