"""What the parts of one benchmark fixture load (bench/fixture.py) share: its random generator,
writer, clock and new ids, the audit events they collect, and the summary they fill in."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench.fixture_db import Writer


@dataclass
class FixtureSummary:
    campaigns: int = 0
    funded: int = 0
    needs: int = 0
    donations: int = 0
    transfer_groups: int = 0
    transfers: int = 0
    accounts: int = 0
    bank_statement_lines: int = 0
    rows: int = 0
    seconds: float = 0.0
    slugs: list[str] = field(default_factory=list, repr=False)


#: (time, actor id, actor label, action, object type, object id, fields)
AuditRow = tuple[float, int | None, str, str, str, int, str]


@dataclass
class Load:
    """One call of ``generate``: everything its steps read, and what they collect on the way."""

    w: Writer
    rng: random.Random
    now_ts: float
    seed: int
    slug_prefix: str
    #: the largest id of each model before the load (the new rows come after)
    top: dict[Any, int]
    staff: int
    reviewer: int
    summary: FixtureSummary
    say: Callable[[str], None]
    #: the audit events, written last in time order
    audit_rows: list[AuditRow] = field(default_factory=list)


def at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)
