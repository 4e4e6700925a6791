"""Statement import and a donor's erasure audit themselves, in the transaction that acts."""

import io

import pytest
from django.db import transaction

from tests import factories
from zbor.accounts.models import AuditEvent
from zbor.donations.bank_import import import_statement
from zbor.donations.models import BankStatement, BankStatementLine, Donation
from zbor.donations.services import erase_donor, start_donation
from zbor.payments.bank import MAX_STATEMENT_BYTES, StatementError

pytestmark = pytest.mark.django_db


def csv_statement(*rows: str) -> bytes:
    return ("date,amount,currency,reference,transaction_id\n" + "".join(f"{r}\n" for r in rows)).encode()


def test_a_statement_import_is_audited_with_its_statement():
    finance = factories.staff_user()
    report = import_statement(io.BytesIO(csv_statement("2026-11-28,20.00,EUR,for Pavel,T9")), by=finance)
    assert report.new == 1 and report.unmatched == 1
    event = AuditEvent.objects.get(action="bank_statement.import")
    assert event.actor == finance and event.object_id == str(report.statement.pk)


def test_a_statement_over_the_size_limit_is_refused_before_it_is_read_whole():
    class Endless(io.RawIOBase):
        read_so_far = 0

        def read(self, size=-1):
            assert size != -1, "the import must not read an upload whole"
            self.read_so_far += size
            return b"x" * size

    endless = Endless()
    with pytest.raises(StatementError):
        import_statement(endless, by=factories.staff_user())
    assert endless.read_so_far == MAX_STATEMENT_BYTES + 1
    assert (
        not BankStatement.objects.exists() and not AuditEvent.objects.filter(action="bank_statement.import").exists()
    )


def test_an_import_that_fails_leaves_neither_lines_nor_audit(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the audit could not be written")

    monkeypatch.setattr("zbor.donations.bank_import.audit", broken)
    with pytest.raises(RuntimeError):
        import_statement(csv_statement("2026-11-28,20.00,EUR,for Pavel,T9"), by=factories.staff_user())
    assert not BankStatementLine.objects.exists() and not BankStatement.objects.exists()


def test_erasing_a_donor_clears_their_data_and_audits_without_the_address():
    campaign = factories.campaign()
    donation = start_donation(
        campaign,
        amount=500,
        need=None,
        provider="demo",
        idempotency_key="k1",
        public_name="Kasia",
        email="Kasia@example.org",
        message="Hold on",
    )
    with transaction.atomic():
        assert erase_donor("kasia@EXAMPLE.org ", by=None, label="zbor erase_donor") == 1
    donation.refresh_from_db()
    assert (donation.email, donation.public_name, donation.message) == ("", "", "")
    event = AuditEvent.objects.get(action="donor.erase")
    assert event.actor_label == "zbor erase_donor" and "example.org" not in str(event.fields)
    assert Donation.objects.filter(pk=donation.pk, amount=500).exists()
