"""Banks' own CSV statements: lines are read with the bank's saved layout, and a line that
cannot be read refuses the whole file naming its line and column.

The samples (samples/) are invented statements written after the published layouts of a
German bank (cp1252, preamble and closing balance), a Polish one (Windows-1250) and a
Lithuanian one (UTF-8); no real person's data.
"""

from datetime import date
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from zbor.payments.bank import StatementError, parse_statement
from zbor.payments.bank_csv import parse_bank_csv
from zbor.payments.models import StatementLayout

SAMPLES = Path(__file__).parent / "samples"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


GERMAN = {
    "delimiter": ";",
    "decimal_separator": ",",
    "thousands_separator": ".",
    "encoding": "cp1252",
    "date_format": "%d.%m.%Y",
    "header_line": 5,
    "footer_lines": 1,
    "date_column": "Buchungstag",
    "amount_column": "Betrag",
    "credit_column": "",
    "debit_column": "",
    "currency_column": "Währung",
    "currency": "",
    "reference_columns": "Verwendungszweck",
    "transaction_id_column": "",
}
POLISH = {
    **GERMAN,
    "thousands_separator": " ",
    "encoding": "cp1250",
    "date_format": "%Y-%m-%d",
    "header_line": 6,
    "footer_lines": 0,
    "date_column": "Data operacji",
    "amount_column": "Kwota",
    "currency_column": "Waluta",
    "reference_columns": "Tytuł",
    "transaction_id_column": "Nr transakcji",
}
LITHUANIAN = {
    **POLISH,
    "delimiter": ",",
    "decimal_separator": ".",
    "thousands_separator": ",",
    "encoding": "utf-8",
    "header_line": 1,
    "date_column": "Data",
    "amount_column": "Suma",
    "currency_column": "Valiuta",
    "reference_columns": "Mokėjimo paskirtis",
    "transaction_id_column": "Įrašo numeris",
}


def layout(fields: dict, pk: int = 7) -> StatementLayout:
    return StatementLayout(pk=pk, name="Test bank", **fields)


def test_a_german_statement_reads_past_its_preamble_and_closing_balance():
    lines = parse_bank_csv(sample("de_bank.csv"), layout(GERMAN))
    assert [(line.booked_on, line.amount, line.currency, line.is_credit) for line in lines] == [
        (date(2026, 11, 3), 2500, "EUR", True),
        (date(2026, 11, 4), 125000, "EUR", True),
        (date(2026, 11, 5), 123456, "EUR", False),
        (date(2026, 11, 6), 1000, "EUR", True),
        (date(2026, 11, 6), 1000, "EUR", True),
    ]
    assert lines[0].text == "Spende ZB4K7Q-9MX2C danke"
    assert lines[1].text == "Spende für Familien; ZB7HJ3-PQ8RE"
    # No id from this bank: the two identical lines are told apart by their order, and the
    # payer's name, in its own column, is nowhere.
    assert lines[4].key == lines[3].key + "#2" and len({line.key for line in lines}) == 5
    assert not any("Musterfrau" in line.text or "Musterfrau" in line.key for line in lines)


def test_keys_without_a_bank_id_are_the_same_in_every_import_of_the_same_statement():
    first = parse_bank_csv(sample("de_bank.csv"), layout(GERMAN))
    again = parse_bank_csv(sample("de_bank.csv"), layout(GERMAN))
    other_bank = parse_bank_csv(sample("de_bank.csv"), layout(GERMAN, pk=8))
    assert [line.key for line in first] == [line.key for line in again]
    assert not {line.key for line in first} & {line.key for line in other_bank}


def test_a_polish_statement_in_windows_1250_keeps_its_letters_and_the_bank_ids():
    lines = parse_statement(sample("pl_bank_cp1250.csv"), layout=layout(POLISH))
    assert [(line.key, line.amount, line.is_credit) for line in lines] == [
        ("csv-layout7:TX-PL-0001", 15000, True),
        ("csv-layout7:TX-PL-0002", 250000, False),
        ("csv-layout7:TX-PL-0003", 100050, True),
    ]
    assert lines[0].text == "Darowizna ZBABCD-12344 — zażółć gęślą jaźń"
    assert lines[0].currency == "PLN" and lines[0].booked_on == date(2026, 11, 3)


def test_a_lithuanian_statement_never_keeps_the_payer():
    lines = parse_bank_csv(sample("lt_bank.csv"), layout(LITHUANIAN))
    assert [(line.amount, line.is_credit, line.text) for line in lines] == [
        (4000, True, "Parama ZBX9T2-M4K7C ačiū"),
        (1250, False, "Banko mokestis už sąskaitą"),
        (120000, True, "Auka šeimoms, ZB be nuorodos"),
    ]
    assert not any("Pavyzd" in str(line) for line in lines)


def test_separate_money_in_and_out_columns_and_a_fixed_currency():
    data = "Datum;Haben;Soll;Text\n01.12.2026;12,50;;ZB4K7Q-9MX2C\n02.12.2026;;3,00;Gebühr\n".encode()
    fields = {**GERMAN, "header_line": 1, "footer_lines": 0, "encoding": "utf-8", "date_column": "Datum"}
    fields |= {"amount_column": "", "credit_column": "Haben", "debit_column": "Soll"}
    fields |= {"currency_column": "", "currency": "EUR", "reference_columns": "Text"}
    lines = parse_bank_csv(data, layout(fields))
    assert [(line.amount, line.is_credit, line.currency) for line in lines] == [
        (1250, True, "EUR"),
        (300, False, "EUR"),
    ]


def test_unsigned_amounts_with_a_money_in_or_out_marker_column():
    """Banks that write every amount positive and say S(oll) or H(aben) beside it."""
    data = (
        "Buchungstag;Text;Umsatz;S/H\n"
        "01.12.2026;ZB4K7Q-9MX2C;12,50;H\n"
        "02.12.2026;Kontoführung;3,00;s\n"
        "03.12.2026;Rückbuchung;1.000,00; S \n"
    ).encode()
    fields = {**GERMAN, "header_line": 1, "footer_lines": 0, "encoding": "utf-8", "amount_column": "Umsatz"}
    fields |= {"direction_column": "S/H", "credit_marker": "H", "debit_marker": "S", "reference_columns": "Text"}
    fields |= {"currency_column": "", "currency": "EUR"}
    lines = parse_bank_csv(data, layout(fields))
    assert [(line.amount, line.is_credit) for line in lines] == [(1250, True), (300, False), (100000, False)]
    with pytest.raises(StatementError, match="Line 3, column “S/H”: “X” is neither “H” \\(money in\\) nor “S”"):
        parse_bank_csv(data.replace(b";s\n", b";X\n"), layout(fields))


@pytest.mark.parametrize("preamble", [0, 2, 7])
def test_a_header_found_wherever_the_banks_preamble_ends(preamble):
    """Header line 0: the header is the first line naming every column of the layout, for a
    bank whose preamble grows with the number of accounts or notices."""
    head = "".join(f"Hinweis {n};Konto {n}\n" for n in range(preamble))
    data = (head + "Buchungstag;Verwendungszweck;Betrag;Währung\n01.12.2026;Spende;5,00;EUR\n").encode()
    fields = {**GERMAN, "header_line": 0, "footer_lines": 0, "encoding": "utf-8"}
    (line,) = parse_bank_csv(data, layout(fields))
    assert (line.amount, line.is_credit, line.booked_on.isoformat()) == (500, True, "2026-12-01")
    with pytest.raises(StatementError, match="No line of the file names all the layout's columns"):
        parse_bank_csv(data.replace("Währung".encode(), b"Waehrung"), layout(fields))


@pytest.mark.parametrize(
    ("broken", "fault"),
    [
        ("04.11.2026;04.11.2026;Max Mustermann;Spende;12,3x;EUR", "Line 7, column “Betrag”: “12,3x” is not an amount"),
        ("04.11.2026;04.11.2026;Max Mustermann;Spende;12.50;EUR", "Line 7, column “Betrag”: “12.50” is not an amount"),
        (
            "31.02.2026;04.11.2026;Max Mustermann;Spende;12,50;EUR",
            "Line 7, column “Buchungstag”: “31.02.2026” is not a date",
        ),
        (
            "01.01.0001;04.11.2026;Max Mustermann;Spende;12,50;EUR",
            "Line 7, column “Buchungstag”: 0001-01-01 is not a day a bank can have booked",
        ),
        ("04.11.2026;04.11.2026;Max Mustermann;Spende;12,50;EUX", "Line 7, column “Betrag”: unknown currency “EUX”"),
        ("04.11.2026;04.11.2026;Max Mustermann;Spende;12,50", "Line 7: wrong number of columns"),
    ],
)
def test_a_broken_line_refuses_the_whole_file_naming_its_line_and_column(broken, fault):
    lines = sample("de_bank.csv").split(b"\r\n")
    lines[6] = broken.encode("cp1252")
    with pytest.raises(StatementError) as refused:
        parse_bank_csv(b"\r\n".join(lines), layout(GERMAN))
    assert fault in str(refused.value)


def test_a_repeated_bank_id_is_refused():
    data = sample("pl_bank_cp1250.csv").replace(b"TX-PL-0003", b"TX-PL-0001")
    with pytest.raises(
        StatementError, match="Line 9, column “Nr transakcji”: the transaction id TX-PL-0001 appears twice"
    ):
        parse_bank_csv(data, layout(POLISH))


@pytest.mark.parametrize(
    ("name", "encoding", "fault"),
    [
        ("pl_bank_cp1250.csv", "utf-8", "The file is not utf-8 text"),
        ("lt_bank.csv", "cp1257", "The file is UTF-8 text, but the layout says cp1257"),
    ],
)
def test_a_file_in_another_encoding_than_the_layouts_is_refused_saying_so(name, encoding, fault):
    with pytest.raises(StatementError, match=fault):
        parse_bank_csv(
            sample(name), layout({**(POLISH if name.startswith("pl") else LITHUANIAN), "encoding": encoding})
        )


def test_a_header_that_lacks_a_column_of_the_layout_is_refused():
    with pytest.raises(StatementError, match="Line 5: the header lacks the column.s. Tytuł"):
        parse_bank_csv(sample("de_bank.csv"), layout({**GERMAN, "reference_columns": "Tytuł"}))
    with pytest.raises(StatementError, match="Line 4: the file has no header line there"):
        parse_bank_csv(sample("pl_bank_cp1250.csv")[:60], layout({**POLISH, "header_line": 4}))


def test_zbors_own_csv_and_camt_are_read_as_before_whatever_the_layout():
    own = b"date,amount,currency,reference,transaction_id\n2026-11-28,20.00,EUR,ZB4K7Q-9MX2C,T1\n"
    assert parse_statement(own)[0].key == "csv:T1"
    camt = b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"/>'
    with pytest.raises(StatementError, match="BkToCstmrStmt/Stmt is missing"):
        parse_statement(camt, layout=layout(GERMAN))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reference_columns": "Auftraggeber/Empfänger"}, "reference_columns"),
        ({"date_format": "%H:%M"}, "date_format"),
        ({"credit_column": "Haben"}, "amount_column"),
        ({"currency": "EUR"}, "currency"),
        ({"currency_column": "", "currency": ""}, "currency"),
        ({"thousands_separator": ","}, "thousands_separator"),
        ({"credit_marker": "H", "debit_marker": "S"}, "direction_column"),
        ({"direction_column": "S/H", "credit_marker": "H"}, "debit_marker"),
        ({"direction_column": "S/H", "credit_marker": "s", "debit_marker": "S"}, "debit_marker"),
        (
            {"direction_column": "S/H", "amount_column": "", "credit_column": "H", "debit_column": "S"},
            "direction_column",
        ),
    ],
)
def test_a_layout_that_cannot_be_read_with_is_refused_when_saved(change, field):
    with pytest.raises(ValidationError) as refused:
        layout({**GERMAN, **change}).full_clean(validate_unique=False)
    assert field in refused.value.message_dict
