"""Hostile bank statements for tests/test_fuzz_statements.py: CSV and camt.053 files built from
good ones with a fault in each field, or mutated at random."""

from __future__ import annotations

import csv
import io
import re
from xml.sax.saxutils import escape

from hypothesis import strategies as st

from tests.fuzzing import text
from zbor.money import minor_digits

NASTY_CELLS = [
    "",
    " ",
    "NaN",
    "sNaN",
    "-sNaN",
    "Infinity",
    "-0",
    "0",
    "0.00",
    "1e999999",
    "1E+30",
    "-1e999999",
    "9" * 40,
    "-" + "9" * 19,
    "92233720368547758.07",
    "0.001",
    "1,00",
    "1.000,00",
    "١٢٣",
    "\x00",
    "x\x00y",
    "x" * 300,
    "2026-02-30",
    "2026-13-01",
    "99999-01-01",
    "0000-00-00",
    "20261128",
    "2026-11-28T25:00:00",
    "2026-W48-6",
    "eur",
    "XXX",
    "XTS",
    "ZZZ",
    "€",
    '"',
    "a,b",
    "a\nb",
    "a\r\nb",
    "=cmd|' /C calc'!A0",
    "\ufeff",
    "\u2028",
]


def _amount_text(minor: int, currency: str) -> str:
    digits = minor_digits(currency)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**digits)
    return sign + (f"{whole}.{fraction:0{digits}d}" if digits else str(whole))


def _sloppy(reference: str) -> st.SearchStrategy[str]:
    from zbor.payments.bank import format_reference

    return st.sampled_from(
        [
            reference,
            format_reference(reference),
            reference.lower(),
            f"Donation {format_reference(reference).replace('-', ' ')}",
            reference[:4] + reference[5] + reference[4] + reference[6:],  # two neighbours swapped
            f"{reference} and {reference}",
        ]
    )


def _minor_amount(draw, currency: str, *, signed: bool) -> str:
    minor = draw(st.integers(min_value=1, max_value=10**7))
    return _amount_text(-minor if signed and draw(st.booleans()) else minor, currency)


def _remittance(draw, references) -> str:
    return draw(st.one_of(st.sampled_from(references).flatmap(_sloppy), text(30)))


NASTY = st.one_of(st.sampled_from(NASTY_CELLS), text(20))
#: Faults aimed at one field each, so that the rest of the file is valid and the parser gets to it.
NASTY_FOR = {
    "amount": [
        "NaN",
        "sNaN",
        "-sNaN",
        "Infinity",
        "1e999999",
        "-1e999999",
        "1E+30",
        "9" * 40,
        "92233720368547758.07",
        "-92233720368547758.08",
        "0.001",
        "1,00",
        "",
        "0",
        "-0",
        "0.00",
        "١٢٣",
        "0x10",
        " 1.00 ",
    ],
    "date": [
        "2026-02-30",
        "2026-13-01",
        "99999-01-01",
        "0000-00-00",
        "20261128",
        "2026-11-28T25:00:00",
        "2026-W48-6",
        "",
    ],
    "currency": ["eur", "XXX", "XTS", "ZZZ", "€", "", "EURO", "E\x00R"],
    "text": ["\x00", "x\x00y", "x" * 600, "a,b", "a\nb", '"', "=cmd|' /C calc'!A0", "\u2028", "ZB" * 300],
    "id": ["", " ", "x" * 300, "\x00", "T0", "REF0", "TX0"],
}
CSV_FIELDS = ["date", "amount", "currency", "text", "id"]


def nasty_for(field: str):
    return st.one_of(
        st.sampled_from(NASTY_FOR[field]), st.sampled_from(NASTY_FOR[field]), st.sampled_from(NASTY_FOR[field]), NASTY
    )


HEADER = ["date", "amount", "currency", "reference", "transaction_id"]


@st.composite
def mutated_csv(draw, references):
    """A valid CSV statement, then up to two structural faults."""
    header = list(HEADER)
    rows = []
    for i in range(draw(st.integers(min_value=0, max_value=6))):
        currency = draw(st.sampled_from(["EUR", "EUR", "PLN", "JPY", "KWD"]))
        rows.append(
            [
                draw(st.dates()).isoformat(),
                _minor_amount(draw, currency, signed=True),
                currency,
                _remittance(draw, references),
                f"T{i}",
            ]
        )
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2]))):
        kind = draw(
            st.sampled_from(
                [
                    "cell",
                    "cell",
                    "cell",
                    "drop-cell",
                    "extra-cell",
                    "duplicate",
                    "header-case",
                    "header-order",
                    "drop-column",
                    "blank-line",
                    "long-id",
                ]
            )
        )
        full = [r for r in rows if r]
        if kind == "cell" and full:
            row = draw(st.sampled_from(full))
            column = draw(st.integers(0, len(row) - 1))
            row[column] = draw(nasty_for(CSV_FIELDS[column]) if column < len(CSV_FIELDS) else NASTY)
        elif kind == "drop-cell" and full:
            row = draw(st.sampled_from(full))
            row.pop(draw(st.integers(0, len(row) - 1)))
        elif kind == "extra-cell" and full:
            draw(st.sampled_from(full)).append(draw(text(10)))
        elif kind == "duplicate" and full:
            rows.append(list(draw(st.sampled_from(full))))
        elif kind == "header-case":
            header = [h.upper() if draw(st.booleans()) else f" {h} " for h in header]
        elif kind == "header-order":
            order = draw(st.permutations(range(len(header))))
            header = [header[i] for i in order]
            rows = [[r[i] if i < len(r) else "" for i in order] for r in rows]
        elif kind == "drop-column":
            i = draw(st.integers(0, len(header) - 1))
            header.pop(i)
            rows = [r[:i] + r[i + 1 :] for r in rows]
        elif kind == "blank-line":
            rows.insert(draw(st.integers(0, len(rows))), [])
        elif kind == "long-id" and full:
            draw(st.sampled_from(full))[-1] = "T" * draw(st.integers(150, 400))
    if draw(st.integers(0, 3)):
        out = io.StringIO()
        csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows([header, *rows])
        data = out.getvalue()
    else:
        data = "".join(",".join(r) + "\n" for r in [header, *rows])  # unquoted: commas and newlines break lines
    return draw(st.sampled_from(["", "", "\ufeff"])) + data


def _entry(draw, references, index) -> dict:
    currency = draw(st.sampled_from(["EUR", "EUR", "PLN", "JPY"]))
    entry = {
        "currency": currency,
        "amount": _minor_amount(draw, currency, signed=False),
        "indicator": draw(st.sampled_from(["CRDT", "CRDT", "CRDT", "DBIT"])),
        "date": draw(st.dates()).isoformat(),
        "ref": draw(st.sampled_from([f"REF{index}", f"REF{index}", ""])),
        "text": _remittance(draw, references),
        "extra": draw(
            st.sampled_from(["", "", "", "<Sts>BOOK</Sts>", "<Sts><Cd>PDNG</Cd></Sts>", "<RvslInd>true</RvslInd>"])
        ),
        "batch": [],
    }
    if draw(st.integers(0, 4)) == 0:  # a batch: one line per transaction, each with its amount
        parts = draw(st.lists(st.integers(min_value=1, max_value=10**6), min_size=2, max_size=3))
        entry["amount"] = _amount_text(sum(parts), currency)
        entry["batch"] = [
            {"amount": _amount_text(p, currency), "ref": f"TX{i}", "text": _remittance(draw, references)}
            for i, p in enumerate(parts)
        ]
    return entry


#: Characters XML 1.0 cannot carry at all, not even escaped.
XML_INVALID = "[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"


def _entry_xml(e: dict) -> str:
    def x(value):
        # Escaped, without the characters XML 1.0 cannot carry at all, unless the fault is raw text.
        return value if e.get("raw") else escape(re.sub(XML_INVALID, "", value))

    details = f"<NtryDtls><TxDtls><RmtInf><Ustrd>{x(e['text'])}</Ustrd></RmtInf></TxDtls></NtryDtls>"
    if e["batch"]:
        details = (
            "<NtryDtls>"
            + "".join(
                f'<TxDtls><Refs><AcctSvcrRef>{x(t["ref"])}</AcctSvcrRef></Refs><AmtDtls><TxAmt><Amt Ccy="{x(e["currency"])}">'
                f"{x(t['amount'])}</Amt></TxAmt></AmtDtls><RmtInf><Ustrd>{x(t['text'])}</Ustrd></RmtInf></TxDtls>"
                for t in e["batch"]
            )
            + "</NtryDtls>"
        )
    return (
        f'<Ntry><Amt Ccy="{x(e["currency"])}">{x(e["amount"])}</Amt>{e["extra"]}<CdtDbtInd>{x(e["indicator"])}</CdtDbtInd>'
        f"<BookgDt><Dt>{x(e['date'])}</Dt></BookgDt><AcctSvcrRef>{x(e['ref'])}</AcctSvcrRef>{details}</Ntry>"
    )


@st.composite
def mutated_camt(draw, references):
    """A valid camt.053 statement, then up to two structural faults."""
    entries = [_entry(draw, references, i) for i in range(draw(st.integers(0, 4)))]
    version = draw(st.sampled_from(["02", "02", "04", "08"]))
    account = draw(st.sampled_from(["", "", "<Acct><Id><IBAN>PL61 1090 1014 0000 0712 1981 2874</IBAN></Id></Acct>"]))
    statement_id, statements = "STMT-1", 1
    faults = [
        draw(
            st.sampled_from(
                [
                    "field",
                    "field",
                    "field",
                    "batch-field",
                    "raw",
                    "duplicate-entry",
                    "drop-element",
                    "entity",
                    "namespace",
                    "encoding",
                    "account",
                    "statement-id",
                    "two-statements",
                ]
            )
        )
        for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2])))
    ]
    for kind in faults:
        if kind == "field" and entries:
            field = draw(st.sampled_from(["currency", "amount", "amount", "indicator", "date", "ref", "text"]))
            nasty = {"ref": "id", "indicator": "text"}.get(field, field)
            draw(st.sampled_from(entries))[field] = draw(nasty_for(nasty))
        elif kind == "batch-field" and any(e["batch"] for e in entries):
            transaction_ = draw(st.sampled_from([t for e in entries for t in e["batch"]]))
            field = draw(st.sampled_from(["amount", "amount", "ref", "text"]))
            transaction_[field] = draw(nasty_for({"ref": "id"}.get(field, field)))
        elif kind == "raw" and entries:
            e = draw(st.sampled_from(entries))
            e["raw"], e["text"] = (
                True,
                draw(st.sampled_from(["<", "&", "&amp", "]]>", "<Ustrd>", "&#0;", "&#x1;", "\x00"])),
            )
        elif kind == "duplicate-entry" and entries:
            entries.append(dict(draw(st.sampled_from(entries))))
        elif kind == "account":
            account = draw(
                st.sampled_from(
                    [
                        "<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>",
                        "<Acct><Id><IBAN>pl61109010140000071219812874</IBAN></Id></Acct>",
                    ]
                )
            )
        elif kind == "statement-id":
            statement_id = draw(st.sampled_from(["", " "]))
        elif kind == "two-statements":
            statements = 2
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">'
        "<BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId></GrpHdr>"
        + f"<Stmt>{account}<Id>{statement_id}</Id>{''.join(_entry_xml(e) for e in entries)}</Stmt>" * statements
        + "</BkToCstmrStmt></Document>"
    )
    for kind in faults:
        if kind == "drop-element":
            tag = draw(
                st.sampled_from(
                    [
                        "Amt",
                        "CdtDbtInd",
                        "BookgDt",
                        "Dt",
                        "Id",
                        "Stmt",
                        "Ntry",
                        "AcctSvcrRef",
                        "Ustrd",
                        "TxAmt",
                        "BkToCstmrStmt",
                    ]
                )
            )
            xml = re.sub(rf"<{tag}\b[^>]*>.*?</{tag}>", "", xml, count=1, flags=re.S)
        elif kind == "entity":
            xml = xml.replace("<Document", '<!DOCTYPE d [<!ENTITY x "y">]><Document', 1).replace("M1", "&x;")
        elif kind == "namespace":
            xml = xml.replace(
                "urn:iso:std:iso:20022:tech:xsd:camt.053.001",
                draw(st.sampled_from(["urn:other", "", "urn:iso:std:iso:20022:tech:xsd:camt.052.001"])),
            )
        elif kind == "encoding":
            xml = xml.replace(
                'encoding="UTF-8"', draw(st.sampled_from(['encoding="UTF-16"', 'encoding="latin-1"', 'encoding="x"']))
            )
    return xml


@st.composite
def statement_files(draw, references):
    data = draw(
        st.one_of(
            st.binary(max_size=300),
            mutated_csv(references).map(str.encode),
            mutated_csv(references).map(str.encode),
            mutated_camt(references).map(str.encode),
            mutated_camt(references).map(str.encode),
        )
    )
    if draw(st.integers(0, 5)) == 0:  # byte-level damage: truncation, inserted bytes, another encoding
        kind = draw(st.sampled_from(["truncate", "insert", "latin1"]))
        at = draw(st.integers(0, len(data)))
        if kind == "truncate":
            data = data[:at]
        elif kind == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
        else:
            data = data.decode("utf-8", "replace").encode("latin-1", "replace")
    return data
