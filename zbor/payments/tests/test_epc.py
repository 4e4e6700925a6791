"""The EPC QR code (EPC069-12, version 002): its payload, and the drawn code read back."""

import re

import pytest
from PIL import Image

from zbor.payments.epc import epc_payload, qr_matrix, qr_svg

ACCOUNT = {"name": "Zbor Foundation", "iban": "PL61 1090 1014 0000 0712 1981 2874", "bic": "WBKPPLPP"}


def drawn_modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules the SVG's path draws: rectangles one module high."""
    runs = re.findall(r"M(\d+),(\d+)h(\d+)v1h-(\d+)z", svg)
    assert "".join(f"M{x},{y}h{w}v1h-{back}z" for x, y, w, back in runs) in svg
    assert all(w == back for _x, _y, w, back in runs)
    return {(int(x) + i, int(y)) for x, y, w, _back in runs for i in range(int(w))}


def read_back(svg: str):
    """The code in an SVG drawn by ``qr_svg``, decoded by ZXing from a picture of it."""
    import zxingcpp

    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    dark = drawn_modules(svg)
    image = Image.new("L", (size, size), 255)
    image.putdata([0 if (x, y) in dark else 255 for y in range(size) for x in range(size)])
    image = image.resize((size * 6, size * 6), Image.Resampling.NEAREST)
    [barcode] = zxingcpp.read_barcodes(image)
    return barcode


def test_the_payload_has_the_epc_lines_in_order():
    payload = epc_payload(**ACCOUNT, amount=2550, currency="EUR", remittance="ZB4K7Q-9MX2T")
    assert payload.split("\n") == [
        "BCD",
        "002",
        "1",
        "SCT",
        "WBKPPLPP",
        "Zbor Foundation",
        "PL61109010140000071219812874",
        "EUR25.50",
        "",
        "",
        "ZB4K7Q-9MX2T",
    ]


@pytest.mark.parametrize(
    ("amount", "text"),
    [(1, "EUR0.01"), (2500, "EUR25.00"), (100000, "EUR1000.00"), (99_999_999_999, "EUR999999999.99")],
)
def test_amounts_are_written_as_the_guidelines_ask(amount, text):
    assert epc_payload(**ACCOUNT, amount=amount, currency="EUR", remittance="R").split("\n")[7] == text


def test_no_code_for_other_currencies_no_account_or_impossible_amounts():
    assert epc_payload(**ACCOUNT, amount=2500, currency="PLN", remittance="R") == ""
    assert epc_payload(**{**ACCOUNT, "iban": ""}, amount=2500, currency="EUR", remittance="R") == ""
    assert epc_payload(**ACCOUNT, amount=0, currency="EUR", remittance="R") == ""
    assert epc_payload(**ACCOUNT, amount=100_000_000_000, currency="EUR", remittance="R") == ""


def test_the_bic_is_optional_and_the_name_is_cut_at_70():
    payload = epc_payload(
        name="N" * 90, iban="DE89370400440532013000", bic="", amount=5, currency="EUR", remittance="R"
    )
    lines = payload.split("\n")
    assert lines[4] == "" and lines[5] == "N" * 70


def test_the_drawn_code_reads_back_as_the_payload_at_level_m():
    payload = epc_payload(
        name="Fundacja Żubr", iban=ACCOUNT["iban"], bic="", amount=1234, currency="EUR", remittance="ZB4K7Q-9MX2T"
    )
    svg = qr_svg(payload, label="QR")
    barcode = read_back(svg)
    assert barcode.format.name == "QRCode" and barcode.ec_level == "M"
    assert barcode.bytes.decode("utf-8") == payload
    fields = barcode.bytes.decode("utf-8").split("\n")
    assert fields[:4] == ["BCD", "002", "1", "SCT"]
    assert fields[5:8] == ["Fundacja Żubr", "PL61109010140000071219812874", "EUR12.34"]
    assert fields[10] == "ZB4K7Q-9MX2T"


def test_the_svg_is_the_qr_matrix_and_loads_nothing():
    payload = epc_payload(**ACCOUNT, amount=2500, currency="EUR", remittance="ZB4K7Q-9MX2T")
    svg = str(qr_svg(payload, label='say "hi" <b>'))
    matrix = qr_matrix(payload)
    assert drawn_modules(svg) == {(x, y) for y, row in enumerate(matrix) for x, on in enumerate(row) if on}
    assert "href" not in svg and "style" not in svg and "<b>" not in svg and "&quot;hi&quot;" in svg
