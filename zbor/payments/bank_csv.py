"""A bank's own CSV statement, read with the layout saved for that bank (``StatementLayout``).

All or nothing, as every statement: the first line that cannot be read raises
``StatementError`` naming its line number and column, and nothing is imported. Only the columns
the layout names are read: the date, the amount, the currency, the remittance text and the
bank's id. The payer's name and account, in whatever column the bank puts them, are never read.

A line's key is the bank's id under the layout's prefix; a bank that gives no id gets a digest
of what the line says, numbered among identical lines (``_Keys``, as camt.053 does), so the
same statement imported twice adds nothing.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils.translation import gettext as _

from .layout_checks import header_key
from .statements import MAX_STATEMENT_BYTES, StatementError, StatementLine, _bank_key, _Keys, _minor, bank_day

_SPACES = (" ", "\u00a0", "\u202f")


def decode(data: bytes, encoding: str) -> str:
    """The file as text in the layout's encoding; a file that is plainly in another is refused."""
    if not encoding.startswith("utf-8") and not data.isascii() and _is_utf8(data):
        # Accented text that is valid UTF-8 is UTF-8: read as cp125x it would be garbled.
        raise StatementError(
            _("The file is UTF-8 text, but the layout says %(encoding)s: check the encoding of the layout.")
            % {"encoding": encoding}
        )
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        text = "\x00"
    if "\x00" in text:  # not in this encoding, UTF-16, or not text at all
        raise StatementError(
            _("The file is not %(encoding)s text: check the encoding of the layout.") % {"encoding": encoding}
        )
    return text.removeprefix("\ufeff")


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def rows_of(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """Each CSV record with the number of the line it starts on."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    start = 1
    try:
        for row in reader:
            rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise StatementError(_("Line %(n)s: %(error)s.") % {"n": start, "error": exc}) from None
    return rows


@dataclass(frozen=True)
class _Columns:
    """Where each value the layout names sits in a line (None: not in this layout)."""

    names: list[str]
    date: int
    amount: int | None
    credit: int | None
    debit: int | None
    currency: int | None
    references: list[int]
    transaction_id: int | None
    direction: int | None = None

    @classmethod
    def find(cls, header: list[str], layout: Any, line: int) -> _Columns:
        """The layout's columns in ``header`` (line ``line``); a column it lacks is an error."""
        index = {header_key(name): i for i, name in reversed(list(enumerate(header)))}
        named = [
            layout.date_column,
            layout.amount_column,
            layout.credit_column,
            layout.debit_column,
            layout.currency_column,
            layout.transaction_id_column,
            layout.direction_column,
            *layout.reference_column_list,
        ]
        missing = [name for name in named if name and header_key(name) not in index]
        if missing:
            raise StatementError(
                _("Line %(n)s: the header lacks the column(s) %(columns)s.")
                % {"n": line, "columns": ", ".join(missing)}
            )

        def at(name: str) -> int | None:
            return index[header_key(name)] if name else None

        return cls(
            names=header,
            date=index[header_key(layout.date_column)],
            amount=at(layout.amount_column),
            credit=at(layout.credit_column),
            debit=at(layout.debit_column),
            currency=at(layout.currency_column),
            references=[index[header_key(name)] for name in layout.reference_column_list],
            transaction_id=at(layout.transaction_id_column),
            direction=at(layout.direction_column),
        )


def parse_bank_csv(data: bytes, layout: Any) -> list[StatementLine]:
    """The lines of a bank's CSV statement read with ``layout`` (a ``StatementLayout``)."""
    if len(data) > MAX_STATEMENT_BYTES:
        raise StatementError(_("The file is larger than 10 MB."))
    rows = rows_of(decode(data, layout.encoding), layout.delimiter)
    while rows and not any(cell.strip() for cell in rows[-1][1]):
        rows.pop()
    if layout.footer_lines:
        rows = rows[: -layout.footer_lines]
    first = _header_index(rows, layout)
    columns = _Columns.find(rows[first][1], layout, rows[first][0])
    reader = _LineReader(layout, columns)
    return [reader.line(number, row) for number, row in rows[first + 1 :] if any(cell.strip() for cell in row)]


def _header_index(rows: list[tuple[int, list[str]]], layout: Any) -> int:
    """Where the header is among ``rows``: at the layout's header line, or (header line 0) the
    first line naming every column the layout reads."""
    if layout.header_line == 0:
        for i, (number, row) in enumerate(rows):
            try:
                _Columns.find(row, layout, number)
            except StatementError:
                continue
            return i
        raise StatementError(_("No line of the file names all the layout's columns; check their names."))
    at_header = [i for i, (number, _row) in enumerate(rows) if number >= layout.header_line]
    if not at_header or rows[at_header[0]][0] != layout.header_line:
        raise StatementError(
            _("Line %(n)s: the file has no header line there; check the layout's header line.")
            % {"n": layout.header_line}
        )
    return at_header[0]


class _LineReader:
    """Reads one table line after another, keeping the keys seen so far."""

    def __init__(self, layout: Any, columns: _Columns):
        self.layout = layout
        self.columns = columns
        self.keys = _Keys()

    def cell(self, row: list[str], index: int, number: int) -> tuple[str, str]:
        """The cell's text and its "Line n, column c" for messages."""
        where = _("Line %(n)s, column “%(column)s”") % {"n": number, "column": self.columns.names[index].strip()}
        return row[index].strip(), where

    def line(self, number: int, row: list[str]) -> StatementLine:
        try:
            return self._line(number, row)
        except StatementError as exc:
            exc.line = number
            raise

    def _line(self, number: int, row: list[str]) -> StatementLine:
        header = self.columns.names
        if not _fits(row, header):
            raise StatementError(_("%(where)s: wrong number of columns.") % {"where": _("Line %(n)s") % {"n": number}})
        currency = self.currency(row, number)
        amount, is_credit = self.amount(row, number, currency)
        booked_on = self.booked_on(row, number)
        text = " ".join(" ".join(row[i].split()) for i in self.columns.references if row[i].strip())[:500]
        return StatementLine(
            key=self.key(row, number, booked_on, amount, currency, is_credit, text),
            booked_on=booked_on,
            amount=amount,
            currency=currency,
            is_credit=is_credit,
            text=text,
        )

    def currency(self, row: list[str], number: int) -> str:
        if self.columns.currency is None:
            return self.layout.currency.strip().upper()
        value, _where = self.cell(row, self.columns.currency, number)
        return value.upper()

    def amount(self, row: list[str], number: int, currency: str) -> tuple[int, bool]:
        """The amount in minor units (positive) and whether money came in."""
        if self.columns.amount is not None:
            value, where = self.cell(row, self.columns.amount, number)
            minor = self.minor(value, currency, where)
            if self.columns.direction is not None:
                return abs(minor), self.is_credit(row, number)
            return abs(minor), minor > 0
        assert self.columns.credit is not None and self.columns.debit is not None
        credit, credit_where = self.cell(row, self.columns.credit, number)
        debit, debit_where = self.cell(row, self.columns.debit, number)
        if bool(credit) == bool(debit):
            raise StatementError(
                _("Line %(n)s: exactly one of the columns “%(credit)s” and “%(debit)s” must hold an amount.")
                % {"n": number, "credit": self.layout.credit_column, "debit": self.layout.debit_column}
            )
        if credit:
            return abs(self.minor(credit, currency, credit_where)), True
        return abs(self.minor(debit, currency, debit_where)), False

    def minor(self, value: str, currency: str, where: str) -> int:
        """An amount cell in minor units (negative for money out)."""
        plain = plain_amount(value, self.layout)
        if plain is None:
            raise StatementError(
                _("%(where)s: “%(amount)s” is not an amount.") % {"where": where, "amount": value[:40]}
            )
        return _minor(plain, currency, where)

    def is_credit(self, row: list[str], number: int) -> bool:
        """Whether money came in, as the layout's money in or out column says."""
        assert self.columns.direction is not None
        value, where = self.cell(row, self.columns.direction, number)
        credit, debit = self.layout.credit_marker.strip(), self.layout.debit_marker.strip()
        if value.casefold() == credit.casefold():
            return True
        if value.casefold() == debit.casefold():
            return False
        raise StatementError(
            _("%(where)s: “%(value)s” is neither “%(credit)s” (money in) nor “%(debit)s” (money out).")
            % {"where": where, "value": value[:40], "credit": credit, "debit": debit}
        )

    def booked_on(self, row: list[str], number: int) -> date:
        value, where = self.cell(row, self.columns.date, number)
        try:
            day = datetime.strptime(value, self.layout.date_format).date()
        except ValueError:
            raise StatementError(
                _("%(where)s: “%(date)s” is not a date (%(format)s).")
                % {"where": where, "date": value[:40], "format": self.layout.date_format}
            ) from None
        return bank_day(day, where)

    def key(
        self, row: list[str], number: int, booked_on: date, amount: int, currency: str, is_credit: bool, text: str
    ) -> str:
        """The bank's id under the layout's prefix, else a digest of what the line says."""
        prefix = self.layout.key_prefix
        if self.columns.transaction_id is None:
            direction = "CRDT" if is_credit else "DBIT"
            return self.keys.digest(prefix, booked_on.isoformat(), str(amount), currency, direction, text)
        value, where = self.cell(row, self.columns.transaction_id, number)
        if not value:
            raise StatementError(_("%(where)s: the transaction id is empty.") % {"where": where})
        key = _bank_key(prefix, value)
        if key in self.keys.seen:
            raise StatementError(
                _("%(where)s: the transaction id %(id)s appears twice.") % {"where": where, "id": value[:40]}
            )
        self.keys.seen[key] = 1
        return key


def _fits(row: list[str], header: list[str]) -> bool:
    """A line has the header's columns, give or take empty ones at the end (many banks end
    their lines, or only their header, with a delimiter)."""
    if len(row) < len(header):
        return not any(name.strip() for name in header[len(row) :])
    return not any(cell.strip() for cell in row[len(header) :])


def plain_amount(text: str, layout: Any) -> str | None:
    """An amount as the bank writes it ("1.234,56", "1 234,56", "−12,00", "12,00-") made a
    plain decimal ("1234.56"), or None if it is not written in the layout's way: "12.50" where
    the point separates thousands is no amount (twelve euros fifty, or one thousand two hundred
    and fifty?), so thousands must come in groups of three."""
    value = text.strip().replace("\u2212", "-")
    sign = ""
    if value[:1] in ("-", "+"):
        sign, value = value[0], value[1:].strip()
    elif value.endswith("-"):
        sign, value = "-", value[:-1].strip()
    whole, _point, fraction = value.partition(layout.decimal_separator)
    marks = _SPACES if layout.thousands_separator == " " else (layout.thousands_separator,)
    for mark in marks[1:]:
        whole = whole.replace(mark, marks[0])
    if marks[0] and marks[0] in whole:
        if not re.fullmatch(rf"[0-9]{{1,3}}(?:{re.escape(marks[0])}[0-9]{{3}})+", whole):
            return None
        whole = whole.replace(marks[0], "")
    if not re.fullmatch(r"[0-9]{1,30}", whole) or not re.fullmatch(r"[0-9]{0,10}", fraction):
        return None
    return f"{sign}{whole}.{fraction}" if fraction else f"{sign}{whole}"
