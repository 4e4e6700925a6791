"""The net of tests/test_privacy*.py: the personal values the flow uses, and a search of every
log record and of everything written to stdout and stderr for any of them."""

from __future__ import annotations

import ipaddress
import json
import logging
import sys
import traceback
from urllib.parse import quote, quote_plus

WEBHOOK_SECRET = "whsec_privacy_test"

# The donor. Values no page, template or fixture would produce by chance.
EMAIL = "yaryna.quillfeather+zbor7q@example.org"
PUBLIC_NAME = "Yarynka Quillfeather"
MESSAGE = "Trymajsia, Ales: the whole of Kvitnevaya street is with you xq7"
REMOTE_ADDR = "203.0.113.77"  # the address the server sees
FORWARDED = ["2001:db8:7e57::a11", "198.51.100.23"]  # what a proxy says the client was
# The beneficiary and the payout recipient: private, encrypted at rest.
REAL_NAME = "Aliaksandr Needlevich Prykladny"
CONTACTS = "+375 29 555 01 23, wife Volha via Signal @volha_prykl"
VERIFICATION_NOTES = "Met Volha on 3 May at the Zhodzina visit; saw the sentence papers"
DOCUMENT_LABEL = "Sentence of the Partyzanski district court"
RECIPIENT = "Nino Beridze-Landlady, GE29NB0000000101904917, Tbilisi"
PURPOSE = "Rent for Volha Prykladnaya and the children, two months"


def _variants(value: str) -> set[str]:
    return {value, quote(value), quote_plus(value), json.dumps(value)[1:-1]}


def _ip_variants(address: str) -> set[str]:
    ip = ipaddress.ip_address(address)
    return {str(ip), ip.exploded, str(ip).upper(), ip.exploded.upper(), quote(str(ip))}


PERSONAL = {
    "donor email": {*_variants(EMAIL), EMAIL.split("@")[0]},
    "donor name": _variants(PUBLIC_NAME) | {"Quillfeather"},
    "donor message": _variants(MESSAGE) | {"Kvitnevaya"},
    **{f"client address {a}": _ip_variants(a) for a in [REMOTE_ADDR, *FORWARDED]},
    "beneficiary real name": _variants(REAL_NAME) | {"Needlevich"},
    "beneficiary contacts": _variants(CONTACTS) | {"555 01 23", "volha_prykl"},
    "verification notes": _variants(VERIFICATION_NOTES) | {"Zhodzina"},
    "document label": _variants(DOCUMENT_LABEL) | {"Partyzanski"},
    "payout recipient": _variants(RECIPIENT) | {"GE29NB0000000101904917", "Beridze"},
    "payout purpose": _variants(PURPOSE) | {"Prykladnaya"},
}


# --- the net -------------------------------------------------------------------------------

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def render(record: logging.LogRecord) -> str:
    """Everything a handler or formatter could write for this record: the message, the
    exception with its chain, the stack, and any `extra` attributes."""
    parts = [record.name, record.levelname, str(record.msg), record.getMessage()]
    if record.args:
        parts.append(repr(record.args))
    if record.exc_info and record.exc_info[1] is not None:
        parts.append("".join(traceback.format_exception(*record.exc_info)))
    parts += [record.exc_text or "", record.stack_info or ""]
    parts += [f"{k}={v!r}" for k, v in vars(record).items() if k not in _STANDARD]
    return "\n".join(parts)


def find_leaks(records: list[logging.LogRecord], out: str, err: str) -> list[str]:
    """Every (where, what) pair where a personal value shows up; empty when nothing leaked."""
    places = {f"log {r.name} {r.levelname}: {r.getMessage()[:120]!r}": render(r) for r in records}
    places |= {"stdout": out, "stderr": err}
    return sorted(
        f"{what} in {where}"
        for where, text in places.items()
        for what, needles in PERSONAL.items()
        if any(n.lower() in text.lower() for n in needles)
    )


class _Keep(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def handed_back(capfd) -> tuple[str, str]:
    """What the test printed, read from the file descriptors and passed on to pytest's report."""
    out, err = capfd.readouterr()
    sys.stdout.write(out)
    sys.stderr.write(err)
    return out, err
