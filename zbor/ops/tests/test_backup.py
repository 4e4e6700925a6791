"""`zbor backup`: one archive encrypted to the keepers, holding the database and files and a
manifest; any failure leaves no file that looks like a backup."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pyrage import x25519

from tests.postgres import run_here_or_on_postgres
from zbor import private_files
from zbor.ops import databases
from zbor.ops.archive import ArchiveWriter, BackupError
from zbor.ops.backup import make_backup, prune
from zbor.ops.restore import restore_archive, verify

ROOT = Path(__file__).resolve().parents[3]
SECRET_DOCUMENT = b"%PDF- the scan of a passport"


@pytest.fixture
def keeper(tmp_path):
    identity = x25519.Identity.generate()
    recipients = tmp_path / "recipients.txt"
    recipients.write_text(f"# the keepers\n\n{identity.to_public()}\n")
    identity_file = tmp_path / "identity.txt"
    identity_file.write_text(f"{identity}\n")
    return identity, recipients, identity_file


@pytest.fixture
def folders(settings, tmp_path):
    settings.ZBOR_PRIVATE_ROOT = tmp_path / "private"
    settings.MEDIA_ROOT = tmp_path / "media"
    (settings.MEDIA_ROOT / "covers").mkdir(parents=True)
    (settings.MEDIA_ROOT / "covers" / "c0ffee.jpg").write_bytes(b"\xff\xd8 a cover picture")
    return settings


def _backups(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(".lock")) if folder.exists() else []


@pytest.mark.django_db(transaction=True)
def test_the_archive_holds_database_and_files_encrypted_with_a_manifest(folders, keeper, tmp_path):
    identity, recipients, _ = keeper
    stored = private_files.store(SECRET_DOCUMENT)
    target = tmp_path / "backups"
    path = make_backup(target=target, recipients_file=recipients, now=datetime(2026, 3, 1, 2, 0, 5, tzinfo=UTC))

    assert path == target / "zbor-20260301T020005Z.tar.age"
    assert path.stat().st_mode & 0o777 == 0o600 and target.stat().st_mode & 0o777 == 0o700
    assert _backups(target) == [path.name]
    data = path.read_bytes()
    assert data.startswith(b"age-encryption.org/v1")
    # Needles long enough never to turn up by chance in megabytes of ciphertext (b"PDF" did).
    assert b"a cover picture" not in data and b"the scan of a passport" not in data
    manifest = verify(path, [identity])
    names = [m["name"] for m in manifest.members]
    assert names[0] == f"database/{databases.vendor()}.000"
    assert names[1:] == [f"private/{stored}", "media/covers/c0ffee.jpg"]
    assert manifest.vendor == databases.vendor() and manifest.migrations["donations"]
    assert all(len(m["sha256"]) == 64 and m["size"] > 0 for m in manifest.members)


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_database_that_is_not_empty(folders, keeper, tmp_path):
    _, recipients, identity_file = keeper
    path = make_backup(target=tmp_path / "b", recipients_file=recipients)
    with pytest.raises(BackupError, match="the database is not empty"):
        restore_archive(path, identity_file=identity_file, say=print)


@pytest.mark.django_db(transaction=True)
def test_a_damaged_archive_or_the_wrong_identity_is_refused_before_anything_is_touched(folders, keeper, tmp_path):
    identity, recipients, _ = keeper
    path = make_backup(target=tmp_path / "b", recipients_file=recipients)
    with pytest.raises(BackupError, match="cannot decrypt the archive"):
        verify(path, [x25519.Identity.generate()])
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="cannot decrypt|damaged"):
        verify(path, [identity])


@pytest.mark.parametrize(
    ("content", "message"),
    [("age1notakey\n", "line 1: not an age public key"), ("# nobody yet\n", "names no age public key")],
)
def test_a_bad_recipients_file_fails_before_anything_is_written(tmp_path, content, message):
    recipients = tmp_path / "recipients.txt"
    recipients.write_text(content)
    with pytest.raises(BackupError, match=message):
        make_backup(target=tmp_path / "backups", recipients_file=recipients)
    assert not (tmp_path / "backups").exists()


@pytest.mark.django_db(transaction=True)
def test_a_file_that_cannot_be_backed_up_fails_the_backup_and_leaves_no_archive(folders, keeper, tmp_path):
    _, recipients, _ = keeper
    (folders.MEDIA_ROOT / "covers" / "link.jpg").symlink_to("/etc/hostname")
    with pytest.raises(BackupError, match="is not a regular file"):
        make_backup(target=tmp_path / "backups", recipients_file=recipients)
    assert _backups(tmp_path / "backups") == []


def test_a_file_that_vanishes_fails_the_backup(tmp_path):
    writer = ArchiveWriter(tar=None)  # type: ignore[arg-type]  # never reached: the open fails
    with pytest.raises(BackupError, match="vanished during the backup"):
        writer.add_file("private/gone.bin", tmp_path / "gone.bin")


def test_a_pg_dump_that_fails_midway_fails_the_dump(tmp_path, monkeypatch):
    fake = tmp_path / "bin" / "pg_dump"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nhead -c 100000 /dev/zero\necho 'pg_dump: error: query failed' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    parts: list[bytes] = []
    with pytest.raises(BackupError, match=r"pg_dump failed \(exit 1\): pg_dump: error: query failed"):
        databases.dump_postgresql(parts.append)
    assert sum(map(len, parts)) == 100000


@pytest.mark.django_db(transaction=True)
def test_a_pg_dump_that_fails_midway_makes_the_backup_fail_and_leaves_no_archive(
    folders, keeper, tmp_path, monkeypatch
):
    if not run_here_or_on_postgres(f"{__file__}::{sys._getframe().f_code.co_name}"):
        return
    _, recipients, _ = keeper
    fake = tmp_path / "bin" / "pg_dump"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nhead -c 40000000 /dev/urandom\necho 'pg_dump: error: lost connection' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(BackupError, match="pg_dump failed .exit 1.: pg_dump: error: lost connection"):
        make_backup(target=tmp_path / "backups", recipients_file=recipients)
    assert _backups(tmp_path / "backups") == []


def test_a_database_that_does_not_exist_makes_zbor_backup_exit_non_zero_and_write_nothing(tmp_path, keeper):
    _, recipients, _ = keeper
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "ZBOR_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": "postgresql://zbor_backup_nobody@127.0.0.1:5432/zbor_backup_no_such_database",
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-m", "zbor", "backup", "--to", str(tmp_path / "out"), "--recipients", str(recipients)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("CommandError: backup failed, nothing written: cannot read the database")
    assert len(result.stderr.strip().splitlines()) == 1
    assert _backups(tmp_path / "out") == []


def test_prune_deletes_only_old_backups(tmp_path):
    names = ["zbor-20260101T020000Z.tar.age", "zbor-20260301T020000Z.tar.age", "notes.txt"]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    removed = prune(tmp_path, days=30, now=datetime(2026, 3, 10, tzinfo=UTC))
    assert [p.name for p in removed] == [names[0]]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[1:])


def test_private_files_inside_the_public_media_are_refused(settings, keeper, tmp_path):
    _, recipients, _ = keeper
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ZBOR_PRIVATE_ROOT = tmp_path / "media" / "private"
    with pytest.raises(BackupError, match="must not lie one inside the other"):
        make_backup(target=tmp_path / "backups", recipients_file=recipients)
    assert not (tmp_path / "backups").exists()
