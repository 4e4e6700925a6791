"""Fuzzing bank statements: a file is imported whole or refused whole with a StatementError, and
importing it again adds nothing. Each example runs in a savepoint that is rolled back."""

from __future__ import annotations

import csv
import io
import re
import uuid
from xml.sax.saxutils import escape

import pytest
from django.conf import settings as django_settings
from hypothesis import event, given
from hypothesis import strategies as st

from tests.fuzz_statements import CSV_FIELDS, NASTY_FOR, XML_INVALID, statement_files
from tests.fuzzing import fuzz, rolled_back


@pytest.fixture
def bank_world(db):
    from tests import factories
    from zbor.donations import services

    campaign = factories.campaign(slug="fuzz-bank", needs=(50000, 50000))
    pln = factories.campaign(slug="fuzz-bank-pln", currency="PLN", needs=(50000,))
    pledges = [
        services.start_donation(c, amount=amount, need=None, provider="bank", idempotency_key=uuid.uuid4().hex)
        for c, amount in ((campaign, 5000), (campaign, 1234), (pln, 2000))
    ]
    return {"user": factories.staff_user("fuzz-finance"), "references": [p.checkout_reference for p in pledges]}


def check_import(content: bytes, user, *, twice: bool = True) -> str:
    """Import a file: either whole (every line stored once, matches confirmed) or refused whole."""
    from zbor.donations.bank_import import import_statement
    from zbor.donations.models import BankStatement, BankStatementLine, Donation, DonationStatus
    from zbor.ledger.models import Transfer
    from zbor.payments.bank import StatementError, parse_statement

    def counts():
        return (
            BankStatementLine.objects.count(),
            BankStatement.objects.count(),
            Transfer.objects.count(),
            Donation.objects.filter(status=DonationStatus.SUCCEEDED).count(),
        )

    with rolled_back():
        before = counts()
        try:
            report = import_statement(content, by=user)
        except StatementError as exc:
            assert str(exc)
            assert counts() == before  # refused whole: nothing written
            with pytest.raises(StatementError):
                parse_statement(content, expected_iban=django_settings.ZBOR_BANK_IBAN)
            return "refused: " + re.sub(r"“[^”]*”|\d+", "…", str(exc))[:50]
        lines, statements, transfers, succeeded = counts()
        parsed = parse_statement(content, expected_iban=django_settings.ZBOR_BANK_IBAN)
        # Imported whole: every line of the file is stored, each once.
        assert report.total == len(parsed) and report.new == lines - before[0]
        assert {line.key for line in parsed} <= set(BankStatementLine.objects.values_list("key", flat=True))
        assert statements - before[1] == (1 if report.new else 0)
        assert report.new == report.matched + report.unmatched + report.outgoing + report.review
        assert succeeded - before[3] == report.matched
        assert (transfers > before[2]) == (report.matched > 0)
        if twice:  # and importing it again adds nothing
            again = import_statement(content, by=user)
            assert again.new == 0 and counts() == (lines, statements, transfers, succeeded)
        return f"imported {report.new} new line(s), {report.matched} matched"


def test_each_fault_in_each_field_is_refused_or_imported_whole(bank_world):
    from tests.test_bank_transfer import csv_statement
    from zbor.payments.tests.test_bank import camt, entry

    reference = bank_world["references"][0]
    good_csv = ["2026-11-28", "50.00", "EUR", reference, "T1"]
    good_camt = {"amount": "50.00", "currency": "EUR", "text": reference, "ref": "R1", "date": "2026-11-28"}
    for field, values in NASTY_FOR.items():
        for value in values:
            column = CSV_FIELDS.index(field)
            row = [*good_csv[:column], value, *good_csv[column + 1 :]]
            check_import(
                csv_statement(",".join(good_csv).replace("T1", "T0"), ",".join(row)), bank_world["user"], twice=False
            )
            quoted = io.StringIO()
            csv.writer(quoted).writerow(row)
            check_import(
                csv_statement(",".join(good_csv).replace("T1", "T0"), quoted.getvalue().rstrip("\r\n")),
                bank_world["user"],
                twice=False,
            )
            xml_value = escape(re.sub(XML_INVALID, "", value))
            if field != "id":
                faulty = entry(**{**good_camt, field: xml_value, "ref": "R2"})
                check_import(camt(entry(**good_camt) + faulty), bank_world["user"], twice=False)
            # Any of them as the bank's reference for the line.
            check_import(
                camt(entry(**{**good_camt, "ref": xml_value}) + entry(**{**good_camt, "ref": "R2"})),
                bank_world["user"],
                twice=False,
            )


@fuzz(200)
@given(st.data())
def test_a_statement_is_imported_whole_or_refused_whole(bank_world, data):
    event(check_import(data.draw(statement_files(bank_world["references"])), bank_world["user"]))
