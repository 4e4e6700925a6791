"""The mail an admin gets when a systemd unit fails (``OnFailure=zbor-failure-mail@%n.service``).

It says which unit, where and when, with the unit's last journal lines. Only Zbor's own units
call it, and their output holds no personal data (the log-privacy tests); the lines are cut to
a fixed length all the same.
"""

from __future__ import annotations

import re
import socket
import subprocess
from datetime import UTC, datetime

from django.conf import settings
from django.core.mail import send_mail

UNIT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9@._:-]{0,200}\.(service|timer)$")
LINES = 30
LINE_CHARS = 300


class NoAlertAddress(Exception):
    """ZBOR_ALERT_EMAILS is empty: nobody to tell."""


def journal_tail(unit: str) -> list[str]:
    """The unit's last journal lines, or a line saying why there are none."""
    command = ["journalctl", f"--unit={unit}", f"--lines={LINES}", "--no-pager", "--output=short-iso"]
    try:
        # journalctl from PATH, the unit name checked by the caller (UNIT).
        result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [f"(journal not readable: {exc.__class__.__name__})"]
    if result.returncode != 0:
        return [f"(journalctl exited {result.returncode}; is this user in the systemd-journal group?)"]
    return [line[:LINE_CHARS] for line in result.stdout.splitlines()[-LINES:]]


def mail_failure(unit: str, *, now: datetime | None = None) -> None:
    if not UNIT.match(unit):
        raise ValueError(f"not a systemd unit name: {unit!r}")
    if not settings.ZBOR_ALERT_EMAILS:
        raise NoAlertAddress("ZBOR_ALERT_EMAILS is empty: set the admin's address in /etc/zbor/zbor.env")
    host = socket.gethostname()
    when = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    body = "\n".join(
        [
            f"{unit} failed on {host} at {when}.",
            f"See: journalctl --unit={unit} --since=today",
            "",
            "Last lines of its journal:",
            *journal_tail(unit),
        ]
    )
    send_mail(f"[Zbor] {unit} failed on {host}", body, settings.DEFAULT_FROM_EMAIL, settings.ZBOR_ALERT_EMAILS)
