"""Bank statements: ISO 20022 camt.053 XML or CSV (``date,amount,currency,reference,
transaction_id``), read into ``StatementLine``s.

Reading is all or nothing: the first bad element or line raises ``StatementError`` naming it,
and nothing is imported. Only what matching needs is kept: amount, currency, date, the
remittance text and the bank's id for the line — never the payer's name or account.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, localcontext
from typing import TYPE_CHECKING

from defusedxml import ElementTree as SafeET
from django.utils import timezone
from django.utils.translation import gettext as _

from zbor.money import is_currency, minor_digits

if TYPE_CHECKING:
    from .models import StatementLayout

MAX_STATEMENT_BYTES = 10 * 1024 * 1024


class StatementError(ValueError):
    """A statement file is malformed; the message names the line or element at fault.

    ``line``: the number of the CSV line at fault, when it is one; its message may quote the
    line's cells (which can be a payer's name when a layout reads the wrong column)."""

    line: int | None = None


@dataclass(frozen=True)
class StatementLine:
    #: The bank's id for the line (AcctSvcrRef / transaction_id), or a digest of the line.
    key: str
    booked_on: date
    amount: int
    currency: str
    is_credit: bool
    text: str
    #: The bank reverses an earlier booking (a returned transfer): a person must look.
    reversal: bool = False
    #: A batch whose transactions carry no amounts: no reference may match it.
    is_batch: bool = False


#: A plain decimal, as camt.053 writes one (xs:decimal): Decimal would also take "1e999999",
#: "sNaN" or "Infinity", which are no bank's amounts and make its arithmetic raise.
_PLAIN_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)")
#: No statement line is larger (ten trillion euros): a bigger number is a broken file, and
#: would not fit the database's 64-bit amounts.
MAX_LINE_MINOR = 10**15


def _minor(amount_text: str, currency: str, where: str) -> int:
    if not is_currency(currency):
        raise StatementError(_("%(where)s: unknown currency “%(currency)s”.") % {"where": where, "currency": currency})
    text = amount_text.strip()
    if len(text) > 40 or not _PLAIN_DECIMAL.fullmatch(text):
        raise StatementError(
            _("%(where)s: “%(amount)s” is not an amount.") % {"where": where, "amount": amount_text[:40]}
        )
    value = Decimal(text)
    with localcontext(prec=50):  # exact for 40 digits
        minor = value.scaleb(minor_digits(currency))
    if minor != minor.to_integral_value() or abs(minor) >= MAX_LINE_MINOR:
        raise StatementError(_("%(where)s: “%(amount)s” is not an amount.") % {"where": where, "amount": amount_text})
    if minor == 0:  # no money moved: nothing to book, and no bank reports such a line
        raise StatementError(_("%(where)s: the amount is zero.") % {"where": where})
    return int(minor)


def _date(text: str, where: str) -> date:
    try:
        day = date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise StatementError(
            _("%(where)s: “%(date)s” is not a date (YYYY-MM-DD).") % {"where": where, "date": text}
        ) from None
    return bank_day(day, where)


EARLIEST_BANK_DAY = date(1990, 1, 1)  # older than any statement a bank sends as a file


def bank_day(day: date, where: str) -> date:
    """``day`` if a bank can have booked a line on it: not before 1990 and not more than a year
    ahead (a line dated 0001-01-01 or 9999-12-31 is a broken file, and date arithmetic on it
    would overflow; a year of slack keeps value dates and clocks that are off harmless)."""
    latest = timezone.localdate() + timedelta(days=366)
    if not EARLIEST_BANK_DAY <= day <= latest:
        raise StatementError(
            _("%(where)s: %(date)s is not a day a bank can have booked (from %(earliest)s to %(latest)s).")
            % {
                "where": where,
                "date": day.isoformat(),
                "earliest": EARLIEST_BANK_DAY.isoformat(),
                "latest": latest.isoformat(),
            }
        )
    return day


def _digest(*parts: str) -> str:
    return "sha256:" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:40]


#: The stored key's length (BankStatementLine.key).
MAX_KEY_LENGTH = 200


def _bank_key(kind: str, bank_id: str) -> str:
    """A line's key from the bank's own id; an id too long to store is kept as its digest."""
    key = f"{kind}:{bank_id}"
    return key if len(key) <= MAX_KEY_LENGTH else f"{kind}:{_digest(bank_id)}"


def _texts(el, ns) -> list[str]:
    found = [t.text or "" for t in el.findall(".//c:RmtInf/c:Ustrd", ns)]
    found += [t.text or "" for t in el.findall(".//c:RmtInf/c:Strd/c:CdtrRefInf/c:Ref", ns)]
    found += [t.text or "" for t in el.findall(".//c:Refs/c:EndToEndId", ns)]
    return [t.strip() for t in found if t.strip() and t.strip() != "NOTPROVIDED"]


def _iban(text: str) -> str:
    return re.sub(r"\s", "", text or "").upper()


class _Keys:
    """Line keys: the bank's own reference where there is one (a repeat is an error), else a
    digest of what the line says — never its position, so the same transfer in a daily and a
    monthly statement is one line."""

    def __init__(self):
        self.seen: dict[str, int] = {}

    def bank(self, ref: str, where: str) -> str:
        key = _bank_key("camt", ref)
        if key in self.seen:
            raise StatementError(
                _("%(where)s: the bank reference %(ref)s appears twice.") % {"where": where, "ref": ref}
            )
        self.seen[key] = 1
        return key

    def digest(self, *parts: str) -> str:
        base = _digest(*parts)
        self.seen[base] = self.seen.get(base, 0) + 1
        return base if self.seen[base] == 1 else f"{base}#{self.seen[base]}"


def parse_camt053(data: bytes, *, expected_iban: str = "") -> list[StatementLine]:
    """Booked entries of a camt.053 statement (any version of the camt.053.001 schema).

    A batch entry with several transactions becomes one line per transaction, each with its own
    amount; a batch whose transactions carry no amounts cannot be matched and is marked so.
    Entries not yet booked are left out; reversals are marked for a person to check.
    """
    if len(data) > MAX_STATEMENT_BYTES:
        raise StatementError(_("The file is larger than 10 MB."))
    try:
        root = SafeET.fromstring(data)
    except SafeET.ParseError as exc:
        raise StatementError(_("Not well-formed XML: %(error)s.") % {"error": exc}) from None
    except Exception as exc:  # defusedxml refuses entities, DTDs and external references
        raise StatementError(_("The XML was refused: %(error)s.") % {"error": type(exc).__name__}) from None
    match = re.match(r"\{(urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.\d+)\}Document$", root.tag)
    if not match:
        raise StatementError(_("This is not a camt.053 statement (root element %(tag)s).") % {"tag": root.tag})
    ns = {"c": match.group(1)}
    statements = root.findall("c:BkToCstmrStmt/c:Stmt", ns)
    if not statements:
        raise StatementError(_("Element BkToCstmrStmt/Stmt is missing."))
    lines: list[StatementLine] = []
    keys = _Keys()
    for s_index, statement in enumerate(statements, start=1):
        if not (statement.findtext("c:Id", default="", namespaces=ns) or "").strip():
            raise StatementError(_("Stmt[%(n)s]/Id is missing.") % {"n": s_index})
        account = _iban(statement.findtext("c:Acct/c:Id/c:IBAN", default="", namespaces=ns))
        if expected_iban and account and account != _iban(expected_iban):
            raise StatementError(
                _("Stmt[%(n)s] is for the account %(iban)s, not the foundation's.") % {"n": s_index, "iban": account}
            )
        for e_index, entry in enumerate(statement.findall("c:Ntry", ns), start=1):
            lines += _entry_lines(entry, ns, f"Stmt[{s_index}]/Ntry[{e_index}]", keys)
    return lines


@dataclass(frozen=True)
class _Entry:
    """What a booked camt.053 entry (Ntry) says for all its transactions."""

    where: str
    amount: int
    currency: str
    indicator: str
    booked_on: date
    reversal: bool
    bank_ref: str

    def line(self, key: str, amount: int, currency: str, text: str, *, is_batch: bool = False) -> StatementLine:
        return StatementLine(
            key,
            self.booked_on,
            amount,
            currency,
            self.indicator == "CRDT",
            text,
            reversal=self.reversal,
            is_batch=is_batch,
        )

    def whole_line(self, keys: _Keys, text: str, *, is_batch: bool = False) -> StatementLine:
        """The entry as one line, keyed by the bank's reference or a digest of what it says."""
        key = (
            keys.bank(self.bank_ref, self.where)
            if self.bank_ref
            else keys.digest(self.booked_on.isoformat(), str(self.amount), self.currency, self.indicator, text)
        )
        return self.line(key, self.amount, self.currency, text, is_batch=is_batch)


def _entry_lines(entry, ns, where: str, keys: _Keys) -> list[StatementLine]:
    """The lines of one entry: itself, or one per transaction of a batch."""
    read = _read_entry(entry, ns, where)
    if read is None:
        return []  # pending or for information only: it comes again once booked
    transactions = entry.findall("c:NtryDtls/c:TxDtls", ns)
    if len(transactions) <= 1:
        return [read.whole_line(keys, " ".join(_texts(entry, ns))[:500])]
    amounts = [_tx_amount(tx, ns) for tx in transactions]
    if any(a is None for a in amounts):
        # A batch without per-transaction amounts: one line that no reference may match.
        return [read.whole_line(keys, " ".join(_texts(entry, ns))[:500], is_batch=True)]
    lines = [
        _transaction_line(read, tx, amount, ns, f"{where}/NtryDtls/TxDtls[{t_index}]", keys)
        for t_index, (tx, amount) in enumerate(zip(transactions, amounts, strict=True), start=1)
    ]
    if sum(line.amount for line in lines) != read.amount and all(line.currency == read.currency for line in lines):
        raise StatementError(_("%(where)s: its transactions do not add up to the entry's amount.") % {"where": where})
    return lines


def _read_entry(entry, ns, where: str) -> _Entry | None:
    """The entry's amount, direction, booking date and references; None if it is not booked."""
    amount_el = entry.find("c:Amt", ns)
    if amount_el is None or not amount_el.get("Ccy"):
        raise StatementError(_("%(where)s/Amt with its Ccy is missing.") % {"where": where})
    currency = amount_el.get("Ccy").strip().upper()
    amount = _minor(amount_el.text or "", currency, f"{where}/Amt")
    indicator = (entry.findtext("c:CdtDbtInd", default="", namespaces=ns) or "").strip()
    if indicator not in ("CRDT", "DBIT"):
        raise StatementError(_("%(where)s/CdtDbtInd must be CRDT or DBIT.") % {"where": where})
    booked = entry.findtext("c:BookgDt/c:Dt", namespaces=ns) or entry.findtext("c:BookgDt/c:DtTm", namespaces=ns)
    if not booked:
        raise StatementError(_("%(where)s/BookgDt is missing.") % {"where": where})
    booked_on = _date(booked, f"{where}/BookgDt")
    status = (entry.findtext("c:Sts/c:Cd", namespaces=ns) or entry.findtext("c:Sts", namespaces=ns) or "BOOK").strip()
    if status != "BOOK":
        return None
    return _Entry(
        where=where,
        amount=amount,
        currency=currency,
        indicator=indicator,
        booked_on=booked_on,
        reversal=(entry.findtext("c:RvslInd", default="", namespaces=ns) or "").strip().lower() == "true",
        bank_ref=(entry.findtext("c:AcctSvcrRef", default="", namespaces=ns) or "").strip(),
    )


def _tx_amount(tx, ns):
    """A batch transaction's amount element (its own, else the transaction amount), or None."""
    amount = tx.find("c:AmtDtls/c:TxAmt/c:Amt", ns)
    return amount if amount is not None else tx.find("c:Amt", ns)


def _transaction_line(read: _Entry, tx, amount_el, ns, where: str, keys: _Keys) -> StatementLine:
    """One transaction of a batch entry, keyed by its own reference under the entry's."""
    currency = (amount_el.get("Ccy") or read.currency).strip().upper()
    value = _minor(amount_el.text or "", currency, f"{where}/Amt")
    text = " ".join(_texts(tx, ns))[:500]
    tx_ref = (
        tx.findtext("c:Refs/c:AcctSvcrRef", namespaces=ns) or tx.findtext("c:Refs/c:TxId", namespaces=ns) or ""
    ).strip()
    if tx_ref:
        key = keys.bank(f"{read.bank_ref}/{tx_ref}" if read.bank_ref else tx_ref, where)
    else:
        key = keys.digest(read.booked_on.isoformat(), str(value), currency, read.indicator, text, read.bank_ref)
    return read.line(key, value, currency, text)


CSV_COLUMNS = ["date", "amount", "currency", "reference", "transaction_id"]


def parse_csv(data: bytes) -> list[StatementLine]:
    """Lines of a CSV statement: date, amount (negative for money out), currency, reference, transaction_id."""
    if len(data) > MAX_STATEMENT_BYTES:
        raise StatementError(_("The file is larger than 10 MB."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise StatementError(_("The file is not UTF-8 text.")) from None
    if "\x00" in text:  # UTF-16 read as UTF-8, or not text at all (and no database column takes a NUL)
        raise StatementError(_("The file is not UTF-8 text."))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return _parse_csv_rows(reader)
    except csv.Error as exc:
        raise StatementError(_("Line %(n)s: %(error)s.") % {"n": max(reader.line_num, 1), "error": exc}) from None


def _parse_csv_rows(reader: csv.DictReader) -> list[StatementLine]:
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise StatementError(
            _("Line 1: the header lacks the column(s) %(columns)s.") % {"columns": ", ".join(missing)}
        )
    reader.fieldnames = header
    lines = []
    seen = set()
    for number, row in enumerate(reader, start=2):
        where = _("Line %(n)s") % {"n": number}
        if None in row or any(row.get(c) is None for c in CSV_COLUMNS):
            raise StatementError(_("%(where)s: wrong number of columns.") % {"where": where})
        currency = row["currency"].strip().upper()
        amount = _minor(row["amount"], currency, where)
        transaction_id = row["transaction_id"].strip()
        if not transaction_id:
            raise StatementError(_("%(where)s: transaction_id is empty.") % {"where": where})
        if transaction_id in seen:
            raise StatementError(
                _("%(where)s: transaction_id %(id)s appears twice.") % {"where": where, "id": transaction_id}
            )
        seen.add(transaction_id)
        lines.append(
            StatementLine(
                key=_bank_key("csv", transaction_id),
                booked_on=_date(row["date"], where),
                amount=abs(amount),
                currency=currency,
                is_credit=amount > 0,
                text=row["reference"].strip()[:500],
            )
        )
    return lines


def parse_statement(
    data: bytes, *, expected_iban: str = "", layout: StatementLayout | None = None
) -> list[StatementLine]:
    """camt.053 if the file is XML; else CSV, in a bank's ``layout`` (a StatementLayout) if one
    is given, in Zbor's own five columns if not."""
    head = data.lstrip()[:5]
    if head.startswith(b"<") or data.startswith(b"\xef\xbb\xbf<"):
        return parse_camt053(data, expected_iban=expected_iban)
    if layout is not None:
        from .bank_csv import parse_bank_csv  # it builds on this module's readers

        return parse_bank_csv(data, layout)
    return parse_csv(data)
