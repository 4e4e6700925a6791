"""A camt.053 statement's opening and closing balances are read (issue 16); a CSV has none."""

from datetime import date

import pytest

from zbor.payments.balances import StatementBalances, read_balances
from zbor.payments.statements import StatementError


def bal(code, amount, *, currency="EUR", sign="CRDT", on="2026-11-30"):
    return f"""<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="{currency}">{amount}</Amt>
      <CdtDbtInd>{sign}</CdtDbtInd><Dt><Dt>{on}</Dt></Dt></Bal>"""


def camt(*statements: str) -> bytes:
    stmts = "".join(f"<Stmt><Id>S{n}</Id>{body}</Stmt>" for n, body in enumerate(statements))
    return f"""<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
      <BkToCstmrStmt><GrpHdr><MsgId>M</MsgId></GrpHdr>{stmts}</BkToCstmrStmt></Document>""".encode()


def test_opening_and_closing_balances_are_read_in_minor_units():
    data = camt(bal("OPBD", "1000.00", on="2026-11-29") + bal("ITBD", "5.00") + bal("CLBD", "12.34", sign="DBIT"))
    assert read_balances(data) == StatementBalances("EUR", 100000, -1234, date(2026, 11, 30))


def test_the_first_opening_and_the_last_closing_of_several_statements_are_kept():
    data = camt(bal("PRCD", "1.00") + bal("CLBD", "2.00"), bal("OPBD", "2.00") + bal("CLBD", "3.00", on="2026-12-01"))
    read = read_balances(data)
    assert read is not None and (read.opening, read.closing, str(read.closed_on)) == (100, 300, "2026-12-01")


@pytest.mark.parametrize(
    "data",
    [
        b"date,amount,currency,reference,transaction_id\n",
        camt(bal("CLBD", "2.00")),
        camt(bal("OPBD", "1.00") + bal("CLBD", "2.00", currency="USD")),
    ],
)
def test_a_csv_or_a_statement_without_both_balances_in_one_currency_has_none(data):
    assert read_balances(data) is None


def test_a_malformed_balance_is_refused_naming_it():
    with pytest.raises(StatementError, match=r"Stmt\[1\]/Bal\[2\]/Amt"):
        read_balances(camt(bal("OPBD", "1.00") + bal("CLBD", "abc")))
