"""Detection proposes the layout each sample bank writes, ready to be saved as it is."""

import pytest

from zbor.payments.csv_detect import LAYOUT_FIELDS, LayoutNotDetected, detect_layout
from zbor.payments.tests.test_bank_csv import GERMAN, LITHUANIAN, POLISH, sample


@pytest.mark.parametrize(
    ("name", "expected"),
    [("de_bank.csv", GERMAN), ("pl_bank_cp1250.csv", POLISH), ("lt_bank.csv", LITHUANIAN)],
)
def test_detection_proposes_the_layout_the_bank_writes(name, expected):
    proposed = detect_layout(sample(name))
    assert {field: getattr(proposed, field) for field in LAYOUT_FIELDS} == expected
    proposed.name = "Proposed"
    proposed.full_clean(validate_unique=False)  # finance can save it as it is


def test_separate_money_in_and_out_columns_are_detected():
    data = "Datum;Haben;Soll;Text\n01.12.2026;12,50;;ZB4K7Q-9MX2C\n02.12.2026;;3,00;Gebühr\n".encode()
    proposed = detect_layout(data)
    assert (proposed.credit_column, proposed.debit_column, proposed.amount_column) == ("Haben", "Soll", "")
    assert (proposed.encoding, proposed.decimal_separator, proposed.date_format) == ("utf-8", ",", "%d.%m.%Y")


def test_a_utf8_file_with_a_byte_order_mark_is_proposed_as_such():
    assert detect_layout(b"\xef\xbb\xbf" + sample("lt_bank.csv")).encoding == "utf-8-sig"


def test_a_file_with_no_known_columns_is_not_detected():
    with pytest.raises(LayoutNotDetected, match="names a date and an amount column"):
        detect_layout(b"a;b;c\n1;2;3\n")
