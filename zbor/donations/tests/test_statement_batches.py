"""A statement larger than one batch: written batch by batch, matched as line by line, safe to
upload again after a failure half-way."""

import threading

import pytest
from django.db import connections, transaction

from tests import factories
from tests.postgres import run_here_or_on_postgres
from zbor.accounts.models import AuditEvent
from zbor.donations import bank_import, services
from zbor.donations.bank_import import import_statement
from zbor.donations.models import BankStatement, BankStatementLine, Donation, DonationStatus, LineStatus
from zbor.donations.reconcile import reconcile
from zbor.ledger.models import TransferGroup
from zbor.payments.bank import ALPHABET, StatementError, format_reference, near_references, references_in
from zbor.payments.tests.test_bank import camt, entry

pytestmark = pytest.mark.django_db


def typo(reference: str) -> str:
    """The reference with its first symbol after ZB mistyped: one slip away, itself invalid."""
    # Not 0 for Z or Z for 0: they weigh the same mod 31, the one slip the check symbol misses.
    wrong = next(s for s in ALPHABET if s != reference[2] and {s, reference[2]} != {"0", "Z"})
    slipped = reference[:2] + wrong + reference[3:]
    assert not references_in(slipped) and reference in near_references(slipped)
    return format_reference(slipped)


def reversal(**fields) -> str:
    return entry(**fields).replace("<CdtDbtInd>", "<RvslInd>true</RvslInd><CdtDbtInd>")


@pytest.fixture
def pledges():
    campaign = factories.campaign()
    return [
        services.start_donation(campaign, amount=2000, need=None, provider="bank", idempotency_key=f"b{n}")
        for n in range(7)
    ]


#: Each line's key and the status it must get, in the file's order (batches of 4 cut it after
#: L8, L6 and L10).
EXPECTED = {
    "L1": LineStatus.MATCHED,  # pledge 0, its amount
    "L3": LineStatus.REVIEW,  # pledge 1, another amount
    "L5": LineStatus.OUTGOING,
    "L8": LineStatus.UNMATCHED,  # no reference
    "L2": LineStatus.UNMATCHED,  # pledge 0 again: it succeeded in the batch before
    "L4": LineStatus.UNMATCHED,  # pledge 1 again, its amount: finance decides on pledge 1 first
    "L6": LineStatus.REVERSAL,  # pledge 2, reversed
    "L7": LineStatus.MATCHED,  # pledge 2 with a typing slip
    "L9": LineStatus.REVIEW,  # pledge 3 in another currency
    "L10": LineStatus.UNMATCHED,  # pledges 4 and 5 at once
    "L11": LineStatus.MATCHED,  # pledge 6
    "L12": LineStatus.UNMATCHED,  # pledge 6 again, in the same batch
}


def statement(pledges) -> bytes:
    ref = [p.checkout_reference for p in pledges]
    return camt(
        "".join(
            [
                entry(amount="20.00", text=ref[0], ref="L1"),
                entry(amount="19.00", text=ref[1], ref="L3"),
                entry(amount="5.00", indicator="DBIT", text="rent", ref="L5"),
                entry(amount="7.00", text="for the lawyers", ref="L8"),
                entry(amount="20.00", text=ref[0], ref="L2"),
                entry(amount="20.00", text=ref[1], ref="L4"),
                reversal(amount="20.00", text=ref[2], ref="L6"),
                entry(amount="20.00", text=typo(ref[2]), ref="L7"),
                entry(amount="20.00", currency="PLN", text=ref[3], ref="L9"),
                entry(amount="20.00", text=f"{ref[4]} {ref[5]}", ref="L10"),
                entry(amount="20.00", text=format_reference(ref[6]).lower(), ref="L11"),
                entry(amount="20.00", text=ref[6], ref="L12"),
            ]
        )
    )


def outcome() -> dict[str, tuple[str, int | None]]:
    return {line.key: (line.status, line.donation_id) for line in BankStatementLine.objects.all()}


class RolledBack(Exception):
    pass


def test_a_statement_larger_than_a_batch_imports_each_line_once_as_line_by_line(pledges, monkeypatch):
    """Given a statement of 12 lines and batches of 4, when it is imported, then every line is
    stored once with the status and pledge it gets when each line is its own batch (as the
    import was line by line before), and the ledger reconciles."""
    data, finance = statement(pledges), factories.role_user("finance")
    monkeypatch.setattr(bank_import, "BATCH_LINES", 1)
    with pytest.raises(RolledBack), transaction.atomic():
        import_statement(data, by=finance)
        line_by_line = outcome()
        raise RolledBack
    assert not BankStatementLine.objects.exists()

    monkeypatch.setattr(bank_import, "BATCH_LINES", 4)
    report = import_statement(data, by=finance)

    assert outcome() == line_by_line
    assert {key: status for key, (status, _) in outcome().items()} == {f"camt:{k}": v for k, v in EXPECTED.items()}
    assert (report.total, report.new, report.matched, report.review, report.outgoing, report.unmatched) == (
        12,
        12,
        3,
        2,
        1,
        6,  # the reversal counts as unmatched: staff look at it
    )
    succeeded = Donation.objects.filter(status=DonationStatus.SUCCEEDED)
    assert set(succeeded.values_list("pk", flat=True)) == {pledges[0].pk, pledges[2].pk, pledges[6].pk}
    record = BankStatement.objects.get()
    assert (record.lines_total, record.lines_new, record.lines_matched) == (12, 12, 3)
    assert AuditEvent.objects.filter(action="bank_statement.import").count() == 1
    assert reconcile().ok


def test_an_upload_again_after_a_failure_in_the_second_batch_imports_exactly_the_rest(pledges, monkeypatch):
    """Given an import that fails in its second batch, then the first batch stays, whole and
    counted; when the same file is uploaded again, then exactly the other lines are imported
    and no pledge is booked twice."""
    data, finance = statement(pledges), factories.role_user("finance")
    monkeypatch.setattr(bank_import, "BATCH_LINES", 4)
    confirm, calls = services.confirm_donations, []

    def crash_in_the_second_batch(confirmations):
        calls.append(confirmations)
        if len(calls) == 2:
            raise RuntimeError("the server died")
        return confirm(confirmations)

    monkeypatch.setattr(services, "confirm_donations", crash_in_the_second_batch)
    with pytest.raises(RuntimeError):
        import_statement(data, by=finance)
    first = BankStatement.objects.get()
    assert set(outcome()) == {"camt:L1", "camt:L3", "camt:L5", "camt:L8"}
    assert (first.lines_total, first.lines_new, first.lines_matched) == (12, 4, 1)
    assert reconcile().ok

    monkeypatch.setattr(services, "confirm_donations", confirm)
    report = import_statement(data, by=finance)

    assert (report.total, report.new, report.matched) == (12, 8, 2)
    assert {key: status for key, (status, _) in outcome().items()} == {f"camt:{k}": v for k, v in EXPECTED.items()}
    assert BankStatementLine.objects.count() == 12
    assert BankStatement.objects.exclude(pk=first.pk).get().lines_new == 8
    assert Donation.objects.filter(status=DonationStatus.SUCCEEDED).count() == 3
    assert TransferGroup.objects.filter(key__endswith=":succeeded").count() == 3
    assert AuditEvent.objects.filter(action="bank_statement.import").count() == 2
    assert reconcile().ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_upload_that_meets_another_in_a_later_batch_keeps_its_first_and_says_so(monkeypatch):
    """Given an upload whose second batch holds lines another upload commits while its first
    batch is being written, then the second batch is refused, the uploader is told how many
    lines were written, and each line is stored once."""
    if not run_here_or_on_postgres(
        f"{__file__}::test_an_upload_that_meets_another_in_a_later_batch_keeps_its_first_and_says_so"
    ):
        return
    ours = [entry(amount="5.00", text="for the lawyers", ref=f"A{n}") for n in range(3)]
    theirs = [entry(amount="5.00", text="for the lawyers", ref=f"B{n}") for n in range(3)]
    finance = factories.role_user("finance")
    monkeypatch.setattr(bank_import, "BATCH_LINES", 3)
    confirm = services.confirm_donations

    def the_other_upload_commits_meanwhile(confirmations):
        if not BankStatementLine.objects.filter(key="camt:B0").exists():
            other = threading.Thread(
                target=lambda: (import_statement(camt("".join(theirs)), by=finance), connections.close_all())
            )
            other.start()
            other.join()
        return confirm(confirmations)

    monkeypatch.setattr(services, "confirm_donations", the_other_upload_commits_meanwhile)
    with pytest.raises(StatementError, match="imported before that: 3"):
        import_statement(camt("".join(ours + theirs)), by=finance)
    assert sorted(BankStatementLine.objects.values_list("key", flat=True)) == [
        *(f"camt:A{n}" for n in range(3)),
        *(f"camt:B{n}" for n in range(3)),
    ]
