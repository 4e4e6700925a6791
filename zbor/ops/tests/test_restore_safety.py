"""A forged or damaged archive fails cleanly before anything is restored: member names are
checked strictly, the archive's SHA-256 is printed for an out-of-band comparison, and a
pg_restore whose input fails midway is killed rather than left to commit."""

from __future__ import annotations

import hashlib
import io
import os
import sqlite3
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import pytest
from pyrage import x25519

from tests.postgres import run_here_or_on_postgres
from zbor.ops import databases
from zbor.ops.archive import MANIFEST, BackupError, Manifest, encrypt_stream, safe_name

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    "name",
    [
        "private//etc/x",
        "media//etc/x",
        "private/./x",
        "./private/x",
        "private/x/",
        "private/../x",
        "private/a/../../x",
        "/private/x",
        "private",
        "private/",
        "config/x",
        "manifest.json/x",
        "",
        ".",
    ],
)
def test_a_member_name_not_written_the_one_plain_way_is_refused(name):
    with pytest.raises(BackupError, match="unexpected member"):
        safe_name(name)


@pytest.mark.parametrize("name", ["manifest.json", "database/sqlite.000", "private/ab/cd.bin", "media/covers/c.jpg"])
def test_plain_member_names_pass(name):
    assert safe_name(name) == name


def _forged_archive(path: Path, recipient, members: dict[str, bytes]) -> None:
    """An archive whose manifest lists every member with its right checksum, as anyone holding a
    recipient's public key could make one."""
    manifest = Manifest(zbor_version="0", created_at="2026-01-01T00:00:00+00:00", vendor="sqlite", migrations={})
    manifest.members = [
        {"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()} for name, data in members.items()
    ]

    def produce(pipe) -> None:
        with tarfile.open(fileobj=pipe, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            for name, data in {**members, MANIFEST: manifest.to_bytes()}.items():
                info = tarfile.TarInfo(name)  # straight into tarfile: ArchiveWriter would refuse it
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))

    with path.open("wb") as out:
        encrypt_stream(out, [recipient], produce)


def test_a_member_that_would_escape_its_folder_fails_before_anything_is_restored(tmp_path):
    identity = x25519.Identity.generate()
    (tmp_path / "identity").write_text(f"{identity}\n")
    escaped = tmp_path / "escaped"
    archive = tmp_path / "zbor-20260101T000000Z.tar.age"
    _forged_archive(
        archive,
        identity.to_public(),
        {"database/sqlite.000": b"not a database", f"private/{escaped}": b"written outside"},
    )
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "ZBOR_DATA_DIR": str(scratch),
        "ZBOR_PRIVATE_ROOT": str(scratch / "private"),
        "ZBOR_MEDIA_ROOT": str(scratch / "media"),
        "ZBOR_TASKS_IMMEDIATE": "1",
        "DATABASE_URL": "",
        "PYTHONPATH": str(ROOT),
    }
    with (tmp_path / "identity").open("rb") as stdin:
        result = subprocess.run(
            [sys.executable, "-m", "zbor", "restore", str(archive), "--identity", "-"],
            cwd=ROOT,
            env=env,
            stdin=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip() == (
        f"CommandError: restore failed: the archive holds an unexpected member 'private/{escaped}'"
    )
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert f"sha256: {digest}  {archive.name}" in result.stdout
    assert not escaped.exists()
    assert not (scratch / "private").exists() and not (scratch / "media").exists()
    with sqlite3.connect(scratch / "zbor.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


def test_a_pg_restore_whose_input_fails_midway_is_killed_not_left_to_commit(tmp_path, monkeypatch):
    """pg_restore commits its single transaction when its input ends cleanly: a part that fails
    its checksum must end it by a kill. This fake pg_restore 'commits' (writes a file) only when
    it read its input to the end."""
    fake = tmp_path / "bin" / "pg_restore"
    fake.parent.mkdir()
    committed = tmp_path / "committed"
    fake.write_text(f"#!/bin/sh\ncat >/dev/null && echo yes > {committed}\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")

    def parts():
        yield b"x" * 100000
        raise BackupError("database/postgresql.001 changed since it was checked")

    with pytest.raises(BackupError, match="changed since it was checked"):
        databases._pg_restore(parts())
    assert not committed.exists()


def test_a_pg_restore_whose_input_ends_cleanly_commits(tmp_path, monkeypatch):
    """The same fake, fed to the end: the test above fails for the right reason."""
    fake = tmp_path / "bin" / "pg_restore"
    fake.parent.mkdir()
    committed = tmp_path / "committed"
    fake.write_text(f"#!/bin/sh\ncat >/dev/null && echo yes > {committed}\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    databases._pg_restore(iter([b"x" * 100000, b"y"]))
    assert committed.read_text() == "yes\n"


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_last_part_that_fails_leaves_the_database_empty(monkeypatch):
    """The review's case: every part of a real dump is written, then the last one fails its
    checksum. Without the kill, pg_restore would see a clean end and commit it all."""
    if not run_here_or_on_postgres(f"{__file__}::{sys._getframe().f_code.co_name}"):
        return
    from django.db import connections

    parts: list[bytes] = []
    databases.dump_postgresql(parts.append)
    name = f"zbor_backup_kill_{uuid.uuid4().hex[:8]}"
    admin = connections["default"]
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        monkeypatch.setitem(admin.settings_dict, "NAME", name)

        def failing_at_the_end():
            yield from parts
            raise BackupError("database/postgresql.000 changed since it was checked")

        with pytest.raises(BackupError, match="changed since it was checked"):
            databases._pg_restore(failing_at_the_end())
        env = databases._pg_env()
        tables = subprocess.run(
            ["psql", "--no-password", "-Atc", "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert tables.stdout.strip() == "0"
    finally:
        monkeypatch.undo()
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
