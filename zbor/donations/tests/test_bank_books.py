"""The bank in the books (issue 16): a payout paid by bank transfer waits for its statement
line and is matched to it; lines that fit no payout, or two, wait for finance, who match them
by hand or book them as another expense; a statement's balances are kept and checked; and
`zbor reconcile` compares the last closing balance with the ledger's bank balance."""

import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from tests import factories
from zbor.accounts.models import AuditEvent
from zbor.campaigns.models import Need
from zbor.disbursements import services as payouts
from zbor.disbursements.models import Payout
from zbor.disbursements.tests.test_payouts import receipt
from zbor.donations import bank_out
from zbor.donations.bank_import import import_statement
from zbor.donations.exceptions import DonationRefused
from zbor.donations.models import BankStatement, BankStatementLine, LineStatus
from zbor.donations.reconcile import reconcile
from zbor.donations.services import record_demo_donation
from zbor.donations.tests.test_amount_review import bank_pledge
from zbor.ledger.models import Account

pytestmark = pytest.mark.django_db

PAYEE = "Ivan Landlordovich"
PAYEE_IBAN = "GE29NB0000000101904917"


@pytest.fixture
def people():
    return {
        "finance": factories.role_user("finance", "fin-one"),
        "finance2": factories.role_user("finance", "fin-two"),
        "editor": factories.role_user("editor", "ed"),
    }


@pytest.fixture
def funded(db):
    campaign = factories.campaign()
    record_demo_donation(campaign, amount=50000)  # need 1 holds €500
    return campaign


def paid_by_bank(campaign, people, amount=10000, channel="bank_abroad") -> Payout:
    """A payout requested by one person in finance, approved by another, then marked paid."""
    need = Need.objects.get(campaign=campaign, position=0)
    payout = payouts.request_payout(
        need, amount=amount, channel=channel, recipient="Landlord", purpose="Rent", by=people["finance"]
    )
    payouts.approve_payout(payout, by=people["finance2"])
    return payouts.mark_paid(payout, by=people["finance"], proof=receipt())


def amount_text(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def entry(minor: int, *, indicator="DBIT", text="", ref=None, booked=None) -> str:
    booked = booked or timezone.localdate()
    ref = ref or uuid.uuid4().hex
    party = "Cdtr" if indicator == "DBIT" else "Dbtr"
    return f"""<Ntry><Amt Ccy="EUR">{amount_text(minor)}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>
      <BookgDt><Dt>{booked}</Dt></BookgDt><AcctSvcrRef>{ref}</AcctSvcrRef>
      <NtryDtls><TxDtls><RltdPties><{party}><Nm>{PAYEE}</Nm></{party}>
      <{party}Acct><Id><IBAN>{PAYEE_IBAN}</IBAN></Id></{party}Acct></RltdPties>
      <RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"""


def balance(code: str, minor: int, on) -> str:
    sign = "DBIT" if minor < 0 else "CRDT"
    return f"""<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>
      <Amt Ccy="EUR">{amount_text(abs(minor))}</Amt><CdtDbtInd>{sign}</CdtDbtInd><Dt><Dt>{on}</Dt></Dt></Bal>"""


def camt(*entries: str, opening: int | None = None, closing: int | None = None, on=None) -> bytes:
    on = on or timezone.localdate()
    balances = (balance("OPBD", opening, on) if opening is not None else "") + (
        balance("CLBD", closing, on) if closing is not None else ""
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
  <GrpHdr><MsgId>{uuid.uuid4().hex}</MsgId><CreDtTm>2026-11-29T10:00:00</CreDtTm></GrpHdr>
  <Stmt><Id>{uuid.uuid4().hex}</Id>
  {balances}{"".join(entries)}</Stmt></BkToCstmrStmt></Document>""".encode()


def balance_of(code: str) -> int:
    account = Account.objects.filter(code=code).first()
    return 0 if account is None else account.debits_posted - account.credits_posted


def test_a_payout_paid_by_bank_is_matched_to_its_outgoing_line(funded, people):
    """Paid by bank, the money waits as sent; the statement's debit line of its amount, naming
    it, is matched to it and takes the money out of the bank in the ledger."""
    payout = paid_by_bank(funded, people)
    assert balance_of("outgoing:bank:EUR") == -10000 and balance_of("disbursed:bank:EUR") == 10000
    import_statement(camt(entry(10000, text=f"Rent {payout.reference}")), by=people["finance"])
    line = BankStatementLine.objects.get()
    assert (line.status, line.payout_id) == (LineStatus.MATCHED, payout.pk)
    assert balance_of("outgoing:bank:EUR") == 0 and balance_of("provider:bank:EUR") == -10000
    assert reconcile().ok, reconcile().lines()


def test_a_payout_paid_before_the_bank_was_in_the_books_is_matched_without_a_negative_account(funded, people):
    """Paid under an earlier version, its paid group has only the public side: matching its
    line books the missing "sent" side too, so no bank account of the ledger goes negative."""
    from zbor.disbursements.models import PayoutStatus
    from zbor.ledger import chart
    from zbor.ledger.models import TransferKind
    from zbor.ledger.services import Line, post_group

    need = Need.objects.get(campaign=funded, position=0)
    payout = payouts.request_payout(
        need, amount=10000, channel="bank_abroad", recipient="Landlord", purpose="Rent", by=people["finance"]
    )
    payouts.approve_payout(payout, by=people["finance2"])
    post_group(
        f"{payout.reference}:paid",
        kind=TransferKind.PAYOUT,
        reference=payout.reference,
        lines=[Line(chart.need_account(need, "EUR"), chart.payouts_account(need, "EUR"), 10000, TransferKind.PAYOUT)],
    )
    Payout.objects.filter(pk=payout.pk).update(status=PayoutStatus.PAID, paid_at=timezone.now(), proof_name="old.pdf")
    import_statement(camt(entry(10000, text=f"Rent {payout.reference}")), by=people["finance"])
    assert BankStatementLine.objects.get().payout_id == payout.pk
    assert balance_of("outgoing:bank:EUR") == 0
    assert (balance_of("disbursed:bank:EUR"), balance_of("provider:bank:EUR")) == (10000, -10000)
    assert reconcile().ok, reconcile().lines()


def test_a_line_without_a_reference_matches_the_only_payout_it_fits(funded, people):
    payout = paid_by_bank(funded, people)
    paid_by_bank(funded, people, amount=5000)
    import_statement(camt(entry(10000, text="Transfer")), by=people["finance"])
    assert BankStatementLine.objects.get().payout_id == payout.pk


@pytest.mark.parametrize(
    "case",
    ["no payout", "two payouts", "other amount", "too late", "paid in cash", "names another payout"],
)
def test_a_line_that_fits_no_payout_or_two_waits_for_finance(funded, people, case):
    if case != "no payout":
        paid_by_bank(funded, people, channel="cash" if case == "paid in cash" else "bank_abroad")
    if case == "two payouts":
        paid_by_bank(funded, people)
    booked = timezone.localdate() + timedelta(days=10 if case == "too late" else 0)
    amount = 9999 if case == "other amount" else 10000
    text = "payout:999999" if case == "names another payout" else "Transfer"
    import_statement(camt(entry(amount, text=text, booked=booked)), by=people["finance"])
    line = BankStatementLine.objects.get()
    assert (line.status, line.payout_id) == (LineStatus.OUTGOING, None)
    assert balance_of("provider:bank:EUR") == 0


def test_finance_matches_an_outgoing_line_by_hand_audited(funded, people, client):
    first, second = paid_by_bank(funded, people), paid_by_bank(funded, people)
    import_statement(camt(entry(10000, text="Transfer")), by=people["finance"])
    line = BankStatementLine.objects.get()
    assert line.status == LineStatus.OUTGOING
    client.force_login(people["finance2"])
    page = client.get(f"/backoffice/donations/bankstatementline/{line.pk}/change/").content.decode()
    assert 'name="match_payout"' in page and 'name="attach_to_pledge"' not in page
    client.post(f"/backoffice/donations/bankstatementline/{line.pk}/change/", {"match_payout": second.pk})
    line.refresh_from_db()
    assert (line.status, line.payout_id) == (LineStatus.MATCHED, second.pk)
    assert AuditEvent.objects.filter(action="bank_statement_line.match_payout", object_id=str(line.pk)).exists()
    assert list(bank_out.unmatched_bank_payouts()) == [first]
    with pytest.raises(DonationRefused):  # decided once
        bank_out.match_to_payout(line, payout_id=first.pk, by=people["finance"])


def test_a_payout_of_another_amount_or_matched_already_is_refused(funded, people):
    small = paid_by_bank(funded, people, amount=5000)
    import_statement(camt(entry(10000, text="Transfer")), by=people["finance"])
    line = BankStatementLine.objects.get()
    with pytest.raises(DonationRefused, match="takes out"):
        bank_out.match_to_payout(line, payout_id=small.pk, by=people["finance"])
    with pytest.raises(DonationRefused, match="not a payout paid by bank"):
        bank_out.match_to_payout(line, payout_id=123456, by=people["finance"])


@pytest.mark.parametrize("role", [None, "editor", "admin"])
def test_only_finance_matches_or_books_money_out(funded, people, role):
    payout = paid_by_bank(funded, people)
    import_statement(camt(entry(10000, text="Transfer"), entry(10000, text="Transfer")), by=people["finance"])
    line = BankStatementLine.objects.get(status=LineStatus.OUTGOING)  # the other one matched the payout
    user = factories.role_user(role) if role else factories.staff_user(superuser=False)
    with pytest.raises(PermissionDenied):
        bank_out.match_to_payout(line, payout_id=payout.pk, by=user)
    with pytest.raises(PermissionDenied):
        bank_out.mark_other_expense(line, reason="Bank charges", by=user)


def test_money_out_that_is_no_payout_is_booked_as_an_expense(people):
    import_statement(camt(entry(350, text="Account fee")), by=people["finance"])
    line = bank_out.mark_other_expense(BankStatementLine.objects.get(), reason="Bank charges", by=people["finance"])
    assert (line.status, line.reason) == (LineStatus.OTHER_EXPENSE, "Bank charges")
    assert balance_of("expenses:EUR") == 350 and balance_of("provider:bank:EUR") == -350


def test_nothing_of_the_payee_is_stored(funded, people):
    """The payee's name and account are in the statement, never in Zbor."""
    payout = paid_by_bank(funded, people)
    import_statement(
        camt(entry(10000, text=f"{payout.reference} {PAYEE}"), entry(777, text=PAYEE)), by=people["finance"]
    )
    for row in BankStatementLine.objects.values():
        assert not any(PAYEE in str(value) or PAYEE_IBAN in str(value) for value in row.values())
    for row in AuditEvent.objects.values():
        assert not any(PAYEE in str(value) or PAYEE_IBAN in str(value) for value in row.values())


def test_balances_are_kept_and_an_opening_that_differs_is_imported_with_a_warning(people, client):
    yesterday, today = timezone.localdate() - timedelta(days=1), timezone.localdate()
    import_statement(camt(entry(500, text="fee"), opening=100000, closing=99500, on=yesterday), by=people["finance"])
    first = BankStatement.objects.get()
    assert (first.currency, first.opening_balance, first.closing_balance, first.closed_on) == (
        "EUR",
        100000,
        99500,
        yesterday,
    )
    assert first.previous_closing is None
    client.force_login(people["finance"])
    with open_upload(camt(entry(200, text="fee"), opening=90000, closing=89800, on=today)) as upload:
        response = client.post("/backoffice/donations/bankstatement/import/", {"file": upload}, follow=True)
    page = response.content.decode()
    assert "opens at €900, but the statement before it closed at €995" in page
    second = BankStatement.objects.latest("pk")
    assert (second.previous_closing, second.lines_new) == (99500, 1)  # imported all the same
    assert any("a statement is missing between them" in p for p in reconcile().problems)


def open_upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    class _Upload:
        def __enter__(self):
            return SimpleUploadedFile("statement.xml", data, content_type="application/xml")

        def __exit__(self, *exc):
            return False

    return _Upload()


def test_reconcile_is_clean_when_bank_and_ledger_agree_and_names_a_missing_line(funded, people):
    """A bank gift and a payout: the last closing balance equals the first opening plus what the
    ledger booked through the bank. A statement that lacks the payout's line shows the difference."""
    yesterday, today = timezone.localdate() - timedelta(days=1), timezone.localdate()
    pledge = bank_pledge(funded, 2500)
    gift = entry(2500, indicator="CRDT", text=f"Donation {pledge.checkout_reference}", booked=yesterday)
    import_statement(camt(gift, opening=100000, closing=102500, on=yesterday), by=people["finance"])
    payout = paid_by_bank(funded, people)
    out = entry(10000, text=payout.reference)
    import_statement(camt(out, opening=102500, closing=92500, on=today), by=people["finance"])
    report = reconcile()
    assert report.ok, report.lines()

    BankStatement.objects.filter(closed_on=today).update(closing_balance=90000)  # a line of €25 is missing
    problems = reconcile().problems
    assert any(
        "the statement closing on" in p and "says 90000" in p and "the ledger's bank balance is 92500" in p
        for p in problems
    ), problems


def test_reconcile_reports_a_payout_still_without_its_line(funded, people, settings):
    payout = paid_by_bank(funded, people)
    assert reconcile().ok
    Payout.objects.filter(pk=payout.pk).update(paid_at=timezone.now() - timedelta(days=11))
    assert any(f"payout #{payout.pk}" in p and "after 10 days" in p for p in reconcile().problems)
    settings.ZBOR_PAYOUT_LINE_DAYS = 12
    assert reconcile().ok


def test_money_out_matched_to_its_payout_is_counted_as_money_out_not_as_a_donation(funded, people):
    payout = paid_by_bank(funded, people)
    report = import_statement(camt(entry(10000, text=f"Rent {payout.reference}")), by=people["finance"])
    assert (report.matched, report.outgoing) == (0, 1)
    assert BankStatement.objects.get().lines_matched == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_statements_paying_one_payout_uploaded_at_once_match_it_once_without_an_error():
    """Two different files (say the daily and the monthly statement) both show the payout's
    line; uploaded at the same moment, one matches it and the other leaves its line for
    finance, and neither upload fails."""
    import threading

    from django.db import connections

    from tests.postgres import run_here_or_on_postgres

    if not run_here_or_on_postgres(
        f"{__file__}::test_two_statements_paying_one_payout_uploaded_at_once_match_it_once_without_an_error"
    ):
        return
    campaign = factories.campaign()
    record_demo_donation(campaign, amount=50000)
    people = {"finance": factories.role_user("finance", "fin-a"), "finance2": factories.role_user("finance", "fin-b")}
    payout = paid_by_bank(campaign, people)
    files = [camt(entry(10000, text=f"Rent {payout.reference}", ref=f"R{n}")) for n in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def upload(data):
        try:
            barrier.wait()
            report = import_statement(data, by=people["finance"])
            outcomes.append(f"{report.new} new")
        except Exception as exc:  # what a 500 would be
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=upload, args=(data,)) for data in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["1 new", "1 new"], outcomes
    statuses = sorted(BankStatementLine.objects.values_list("status", flat=True))
    assert statuses == [LineStatus.MATCHED, LineStatus.OUTGOING]
    assert balance_of("outgoing:bank:EUR") == 0
