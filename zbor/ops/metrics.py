"""``zbor_backup_last_success_timestamp_seconds`` (zbor/metrics.py; docs/deploy.md, "Metrics"):
when the newest complete archive in ``ZBOR_BACKUP_DIR`` was written, from its name, so that a
backup timer that was never enabled, or stopped, raises an alert instead of going unnoticed.

Only the machine that holds the folder reports it: where ``ZBOR_BACKUP_DIR`` does not exist
(the other app servers) the metric is absent. A folder that exists but cannot be read makes the
source fail (``zbor_metrics_source_up{source="backups"} 0``). Partial files (``.zbor-partial-…``)
never count: a file named like a backup is always a whole one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from zbor import metrics

from .backup import NAME, STAMP


def newest_backup(folder: Path) -> float | None:
    """The time (seconds since 1970) in the name of the newest archive in ``folder``; None when
    the folder does not exist, 0.0 when it holds none."""
    if not folder.is_dir():
        return None
    newest = 0.0
    for entry in folder.iterdir():  # an unreadable folder raises: the source is then down
        match = NAME.match(entry.name)
        if match and entry.is_file():
            newest = max(newest, datetime.strptime(match.group(1), STAMP).replace(tzinfo=UTC).timestamp())
    return newest


def backup_metrics() -> Iterator[metrics.Gauge]:
    newest = newest_backup(Path(settings.ZBOR_BACKUP_DIR))
    if newest is None:
        return
    yield metrics.Gauge(
        "zbor_backup_last_success_timestamp_seconds",
        "When the newest complete zbor backup in ZBOR_BACKUP_DIR was made (seconds since 1970); 0 when none.",
        {(): newest},
    )
