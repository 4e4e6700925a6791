"""`zbor restore` only ever fills an empty database and empty folders, and says so plainly."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from pyrage import x25519

from zbor.ops.backup import make_backup

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.django_db(transaction=True)
def test_a_folder_that_is_not_empty_is_refused_and_nothing_is_written(settings, tmp_path):
    settings.ZBOR_PRIVATE_ROOT, settings.MEDIA_ROOT = tmp_path / "p", tmp_path / "m"
    identity = x25519.Identity.generate()
    (tmp_path / "recipients").write_text(f"{identity.to_public()}\n")
    (tmp_path / "identity").write_text(f"{identity}\n")
    archive = make_backup(target=tmp_path / "b", recipients_file=tmp_path / "recipients")
    scratch = tmp_path / "scratch"
    (scratch / "private").mkdir(parents=True)
    (scratch / "private" / "left-over.bin").write_bytes(b"x")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "ZBOR_DATA_DIR": str(scratch),
        "ZBOR_PRIVATE_ROOT": str(scratch / "private"),
        "ZBOR_MEDIA_ROOT": str(scratch / "media"),
        "DATABASE_URL": "",
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-m", "zbor", "restore", str(archive), "--identity", str(tmp_path / "identity")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"CommandError: restore failed: {scratch / 'private'} (private files) is not empty; "
        "restore only into empty folders"
    )
    with sqlite3.connect(scratch / "zbor.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone() == (0,)
    assert not (scratch / "media").exists()
