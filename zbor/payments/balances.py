"""The balances a camt.053 statement carries: opening (OPBD, or PRCD, the previous closing) and
closing (CLBD), each an amount, a credit or debit sign and a date. A CSV carries none.

Read apart from the lines (``statements.parse_camt053``), after that parse accepted the file:
a file whose balances are missing reads as having none; malformed ones are refused naming the
element, as the lines are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from defusedxml import ElementTree as SafeET
from django.utils.translation import gettext as _

from .statements import StatementError, _date, _minor

OPENING_CODES = ("OPBD", "PRCD")
CLOSING_CODES = ("CLBD",)


@dataclass(frozen=True)
class StatementBalances:
    """One account's balances over the file, in minor units (negative when overdrawn)."""

    currency: str
    opening: int
    closing: int
    closed_on: date


def _balance(bal, ns, where: str) -> tuple[str, int, str, date] | None:
    code = (bal.findtext("c:Tp/c:CdOrPrtry/c:Cd", default="", namespaces=ns) or "").strip()
    if code not in OPENING_CODES + CLOSING_CODES:
        return None
    amount_el = bal.find("c:Amt", ns)
    if amount_el is None:
        raise StatementError(_("%(where)s/Amt is missing.") % {"where": where})
    currency = (amount_el.get("Ccy") or "").strip().upper()
    amount = _minor(amount_el.text or "", currency, f"{where}/Amt")
    if (bal.findtext("c:CdtDbtInd", default="CRDT", namespaces=ns) or "").strip() == "DBIT":
        amount = -amount
    when = bal.findtext("c:Dt/c:Dt", namespaces=ns) or bal.findtext("c:Dt/c:DtTm", namespaces=ns) or ""
    return code, amount, currency, _date(when, f"{where}/Dt")


def read_balances(data: bytes) -> StatementBalances | None:
    """The first opening and the last closing balance of a camt.053 file whose statements are
    all in one currency; None for a CSV, a file without both, or several currencies."""
    if not (data.lstrip()[:1] == b"<" or data.startswith(b"\xef\xbb\xbf<")):
        return None
    root = SafeET.fromstring(data)
    match = re.match(r"\{(urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.\d+)\}Document$", root.tag)
    if not match:
        return None
    ns = {"c": match.group(1)}
    openings: list[tuple[int, str]] = []
    closings: list[tuple[int, str, date]] = []
    for s_index, statement in enumerate(root.findall("c:BkToCstmrStmt/c:Stmt", ns), start=1):
        for b_index, bal in enumerate(statement.findall("c:Bal", ns), start=1):
            read = _balance(bal, ns, f"Stmt[{s_index}]/Bal[{b_index}]")
            if read is None:
                continue
            code, amount, currency, when = read
            if code in OPENING_CODES:
                openings.append((amount, currency))
            else:
                closings.append((amount, currency, when))
    currencies = {c for _a, c in openings} | {c for _a, c, _d in closings}
    if not openings or not closings or len(currencies) != 1:
        return None
    closing, currency, closed_on = closings[-1]
    return StatementBalances(currency=currency, opening=openings[0][0], closing=closing, closed_on=closed_on)
