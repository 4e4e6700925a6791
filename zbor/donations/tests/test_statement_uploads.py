"""Bank statements as finance uploads them: references written sloppily, the same file twice."""

import io
import threading

import pytest
from django.db import connections

from tests import factories
from tests.postgres import run_here_or_on_postgres
from zbor.donations.bank_import import import_statement
from zbor.donations.models import BankStatementLine, Donation, DonationStatus, LineStatus
from zbor.donations.services import start_donation
from zbor.payments.bank import StatementError, format_reference

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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_uploads_of_one_statement_at_once_import_it_once_and_tell_the_others():
    if not run_here_or_on_postgres(
        f"{__file__}::test_four_uploads_of_one_statement_at_once_import_it_once_and_tell_the_others"
    ):
        return
    campaign = factories.campaign()
    pledges = [bank_pledge(campaign, 2000, f"race-{n}") for n in range(3)]
    rows = [f"2026-11-28,20.00,EUR,{p.checkout_reference},T{n}" for n, p in enumerate(pledges)]
    rows += [f"2026-11-28,5.00,EUR,for the lawyers,U{n}" for n in range(200)]
    data = csv_statement(*rows)
    finance = [factories.role_user("finance", f"uploader{n}") for n in range(4)]
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def upload(user):
        try:
            barrier.wait()
            report = import_statement(io.BytesIO(data), by=user)
            outcomes.append("imported" if report.new else "nothing new")
        except StatementError as exc:
            outcomes.append(str(exc))
        except Exception as exc:  # what a 500 would be
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=upload, args=(u,)) for u in finance]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 4 and outcomes.count("imported") == 1, outcomes
    assert all(o in ("imported", "nothing new") or "at the same moment" in o for o in outcomes), outcomes
    assert BankStatementLine.objects.count() == 203
    assert Donation.objects.filter(campaign=campaign, status=DonationStatus.SUCCEEDED).count() == 3
