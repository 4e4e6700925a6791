"""Proposing a bank's CSV layout from the first bytes of one of its statements.

A guess for finance to check and save, never used unseen: the encoding is the first of UTF-8
and the usual Windows code pages under which the most column names are known ones; the
delimiter is what ``csv.Sniffer`` finds (or the one that splits a line into known names); the
header is the first line naming a date and an amount in English, German, Polish, Lithuanian or
Russian; the decimal separator, thousands separator and date format are the ones every sample
value of the amount and date columns fits. Columns naming the payer are never proposed.
"""

from __future__ import annotations

import csv
import re
from datetime import datetime

from django.utils.translation import gettext as _

from .bank_csv import decode, rows_of
from .layout_checks import header_key
from .models import StatementLayout
from .statements import StatementError

SAMPLE_BYTES = 64 * 1024
HEADER_SEARCH_LINES = 40
ENCODINGS = ["utf-8", "cp1252", "cp1250", "cp1251", "cp1257"]
DELIMITERS = ";,\t|"
DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%d-%m-%Y", "%Y.%m.%d", "%Y/%m/%d", "%d.%m.%y", "%m/%d/%Y"]

#: Column names banks use, by what the column holds (compared with ``header_key``).
KNOWN_HEADERS: dict[str, set[str]] = {
    "date": {
        "buchungstag", "buchungsdatum", "datum", "date", "booking date", "transaction date", "data operacji",
        "data księgowania", "data transakcji", "data", "operacijos data", "дата", "дата операции", "дата проводки",
    },
    "amount": {"betrag", "umsatz", "amount", "kwota", "kwota operacji", "suma", "сумма", "сумма операции"},
    "credit": {"haben", "credit", "uznania", "wpływy", "kreditas", "приход", "кредит", "зачисление"},
    "debit": {"soll", "debit", "obciążenia", "wydatki", "debetas", "расход", "дебет", "списание"},
    "currency": {"währung", "waehrung", "currency", "waluta", "valiuta", "валюта", "ccy"},
    "reference": {
        "verwendungszweck", "tytuł", "tytul", "tytuł operacji", "opis", "opis operacji", "mokėjimo paskirtis",
        "paskirtis", "paaiškinimai", "назначение платежа", "назначение", "reference", "description", "details",
        "remittance information", "purpose", "memo",
    },
    "transaction_id": {
        "nr transakcji", "numer transakcji", "id transakcji", "įrašo numeris", "įrašo nr", "transaction id",
        "transaction reference", "buchungsreferenz", "номер операции", "номер документа",
    },
}  # fmt: skip
_ROLE_OF = {name: role for role, names in KNOWN_HEADERS.items() for name in names}
_AMOUNT_CURRENCY = re.compile(r"\b([A-Z]{3})\b")


class LayoutNotDetected(StatementError):
    """No layout could be proposed: finance sets the bank's layout up by hand."""


def _roles(row: list[str]) -> dict[str, int]:
    """The known columns of a line, by role (the first column of each role)."""
    found: dict[str, int] = {}
    for index, name in enumerate(row):
        key = header_key(name)
        role = _ROLE_OF.get(key) or _ROLE_OF.get(re.sub(r"\s*\(.*\)$", "", key))
        if role and role not in found:
            found[role] = index
    return found


def _is_header(roles: dict[str, int]) -> bool:
    return "date" in roles and ("amount" in roles or {"credit", "debit"} <= roles.keys())


def _delimiters(text: str) -> list[str]:
    """The sniffed delimiter first, then the others."""
    try:
        sniffed = csv.Sniffer().sniff(text, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return list(DELIMITERS)
    return [sniffed] + [d for d in DELIMITERS if d != sniffed]


def _find_header(text: str) -> tuple[str, int, list[list[str]]] | None:
    """(delimiter, header line number, rows from the header on) for the first delimiter that
    splits a line into a date and an amount column."""
    lines = text.splitlines()
    for delimiter in _delimiters("\n".join(lines[len(lines) // 2 :])):
        try:
            rows = rows_of(text, delimiter)
        except StatementError:  # not this delimiter's quoting
            continue
        for index, (number, row) in enumerate(rows[:HEADER_SEARCH_LINES]):
            if _is_header(_roles(row)):
                return delimiter, number, [row for _number, row in rows[index:]]
    return None


def _decoded(data: bytes) -> tuple[str, str, tuple[str, int, list[list[str]]] | None]:
    """The encoding under which most known column names read right, the text, and its header."""
    best: tuple[int, str, str, tuple[str, int, list[list[str]]] | None] | None = None
    for encoding in ENCODINGS:
        try:
            text = decode(data, encoding)
        except StatementError:
            continue
        found = _find_header(text)
        score = len(_roles(found[2][0])) if found else 0
        if best is None or score > best[0]:
            best = (score, encoding, text, found)
    if best is None:
        raise LayoutNotDetected(_("The file is in no encoding Zbor knows (UTF-8, Windows-1250, 1251, 1252, 1257)."))
    _score, encoding, text, found = best
    return ("utf-8-sig" if encoding == "utf-8" and data.startswith(b"\xef\xbb\xbf") else encoding), text, found


def _column(rows: list[list[str]], index: int | None) -> list[str]:
    if index is None:
        return []
    return [row[index].strip() for row in rows if len(row) > index and row[index].strip()]


def _separators(amounts: list[str], delimiter: str) -> tuple[str, str]:
    """(decimal, thousands) separators that the sample's amounts are written with."""
    digits = [re.sub(r"[^0-9.,' \u00a0]", "", a).strip() for a in amounts]
    if any(re.search(r",\d{1,2}$", a) for a in digits):
        decimal = ","
    elif any(re.search(r"\.\d{1,2}$", a) for a in digits):
        decimal = "."
    else:  # whole amounts only: the comma where it does not separate the columns
        decimal = "," if delimiter != "," else "."
    thousands = ""
    for mark in (".", ",", " ", "\u00a0", "'"):
        if mark != decimal and any(re.search(rf"\d{re.escape(mark)}\d{{3}}", a) for a in digits):
            thousands = " " if mark == "\u00a0" else mark
    return decimal, thousands


def _date_format(dates: list[str]) -> str:
    """The format that reads the most of the sample's dates (the first of equals)."""

    def read(fmt: str) -> int:
        count = 0
        for value in dates:
            try:
                datetime.strptime(value, fmt)
            except ValueError:
                continue
            count += 1
        return count

    return max(DATE_FORMATS, key=read)


def _footer_lines(rows: list[list[str]], date_index: int, fmt: str) -> int:
    """Lines after the table whose date cell is not a date (a closing balance)."""
    count = 0
    for row in reversed([r for r in rows if any(c.strip() for c in r)]):
        try:
            datetime.strptime(row[date_index].strip(), fmt)
        except (ValueError, IndexError):
            count += 1
            continue
        break
    return count


def detect_layout(data: bytes) -> StatementLayout:
    """A proposed, unsaved layout for a statement whose first bytes are ``data``; raises
    LayoutNotDetected when no line of the first ones names a date and an amount column."""
    whole = len(data) <= SAMPLE_BYTES
    sample = data[:SAMPLE_BYTES]
    if not whole:  # a cut line, or a character cut in two, is no evidence
        sample = sample[: sample.rfind(b"\n") + 1]
    encoding, _text, found = _decoded(sample)
    if found is None:
        raise LayoutNotDetected(
            _("No line among the first %(n)s names a date and an amount column: set the bank's layout up by hand.")
            % {"n": HEADER_SEARCH_LINES}
        )
    delimiter, header_line, rows = found
    header, body = rows[0], rows[1:]
    roles = _roles(header)
    amount_names = [header[roles[r]] for r in ("amount", "credit") if r in roles]
    decimal, thousands = _separators(
        _column(body, roles.get("amount")) + _column(body, roles.get("credit")) + _column(body, roles.get("debit")),
        delimiter,
    )
    date_format = _date_format(_column(body, roles["date"]))
    currency = ""
    if "currency" not in roles:
        named = _AMOUNT_CURRENCY.search(" ".join(amount_names).upper())
        currency = named.group(1) if named else ""

    def name(role: str) -> str:
        return header[roles[role]].strip() if role in roles else ""

    return StatementLayout(
        name="",
        delimiter=delimiter,
        decimal_separator=decimal,
        thousands_separator=thousands,
        encoding=encoding,
        date_format=date_format,
        header_line=header_line,
        footer_lines=_footer_lines(body, roles["date"], date_format) if whole else 0,
        date_column=name("date"),
        amount_column=name("amount"),
        credit_column="" if "amount" in roles else name("credit"),
        debit_column="" if "amount" in roles else name("debit"),
        currency_column=name("currency"),
        currency=currency,
        reference_columns=name("reference"),
        transaction_id_column=name("transaction_id"),
    )


#: The fields a detected layout fills in (all but its name).
LAYOUT_FIELDS = [
    "delimiter",
    "decimal_separator",
    "thousands_separator",
    "encoding",
    "date_format",
    "header_line",
    "footer_lines",
    "date_column",
    "amount_column",
    "credit_column",
    "debit_column",
    "currency_column",
    "currency",
    "reference_columns",
    "transaction_id_column",
]
