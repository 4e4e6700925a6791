"""No file, however broken, makes reading or detecting a bank's CSV fail other than with a
StatementError naming the fault: a crash would be a 500 on the import page."""

from hypothesis import given
from hypothesis import strategies as st

from zbor.payments.bank import StatementError
from zbor.payments.bank_csv import parse_bank_csv
from zbor.payments.csv_detect import detect_layout
from zbor.payments.tests.test_bank_csv import GERMAN, LITHUANIAN, POLISH, layout, sample

HEADER = "Buchungstag;Valuta;Auftraggeber/Empfänger;Verwendungszweck;Betrag;Währung\r\n"
CELLS = st.sampled_from(
    ["03.11.2026", "25,00", "-1.234,56", "1.25,00", "EUR", "", " ", '"', ";", "\r\n", "x", "ä", "\x00"]
)
LINES = st.lists(st.lists(CELLS, max_size=8).map("".join), max_size=6).map("".join)


@given(st.binary(max_size=300), st.sampled_from([GERMAN, POLISH, LITHUANIAN]))
def test_random_bytes_are_read_or_refused_with_a_statement_error(data, fields):
    for content in (data, sample("de_bank.csv")[:200] + data):
        try:
            parse_bank_csv(content, layout(fields))
        except StatementError:
            pass
        try:
            detect_layout(content)
        except StatementError:
            pass


@given(LINES)
def test_near_valid_german_lines_are_read_or_refused_with_a_statement_error(body):
    data = (HEADER + body).encode("cp1252", errors="replace")
    try:
        lines = parse_bank_csv(data, layout({**GERMAN, "header_line": 1, "footer_lines": 0}))
    except StatementError as refused:
        assert str(refused)
    else:
        assert all(line.amount > 0 and len(line.key) <= 200 for line in lines)
    try:
        detect_layout(data)
    except StatementError:
        pass
