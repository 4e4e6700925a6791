"""zbor_backup_last_success_timestamp_seconds (zbor/ops/metrics.py): the newest complete archive's
time where ZBOR_BACKUP_DIR exists, 0 when it holds none, absent where there is no such folder."""

from __future__ import annotations

from datetime import UTC, datetime

from zbor import metrics
from zbor.ops.metrics import backup_metrics

NAME = "zbor_backup_last_success_timestamp_seconds"


def _scraped() -> str:
    return metrics.render()[0].decode()


def test_the_newest_complete_archive_counts_partial_files_do_not(settings, tmp_path):
    settings.ZBOR_BACKUP_DIR = tmp_path
    (tmp_path / "zbor-20260301T020412Z.tar.age").write_bytes(b"age")
    (tmp_path / "zbor-20260302T021003Z.tar.age").write_bytes(b"age")
    (tmp_path / ".zbor-partial-zbor-20260303T020000Z.tar.age").write_bytes(b"half")
    (tmp_path / ".zbor-backup.lock").write_bytes(b"")
    (gauge,) = backup_metrics()
    assert (gauge.name, gauge.samples) == (NAME, {(): datetime(2026, 3, 2, 2, 10, 3, tzinfo=UTC).timestamp()})
    text = _scraped()
    assert f"{NAME} 1.772417403e+09" in text
    assert 'zbor_metrics_source_up{source="backups"} 1.0' in text


def test_an_empty_folder_reads_zero(settings, tmp_path):
    settings.ZBOR_BACKUP_DIR = tmp_path
    assert [(g.name, g.samples) for g in backup_metrics()] == [(NAME, {(): 0.0})]
    assert f"{NAME} 0.0" in _scraped()


def test_without_the_folder_on_this_machine_the_metric_is_absent(settings, tmp_path):
    settings.ZBOR_BACKUP_DIR = tmp_path / "not-here"
    text = _scraped()
    assert NAME not in text
    assert 'zbor_metrics_source_up{source="backups"} 1.0' in text


def test_a_folder_that_cannot_be_read_makes_the_source_down(settings, tmp_path, monkeypatch):
    settings.ZBOR_BACKUP_DIR = tmp_path

    def refused(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(type(tmp_path), "iterdir", refused)
    text = _scraped()
    assert NAME not in text
    assert 'zbor_metrics_source_up{source="backups"} 0.0' in text
