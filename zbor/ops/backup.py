"""``zbor backup``: one encrypted archive, written under a temporary name and renamed only once
everything in it is complete, so a file named like a backup is always a whole one.

Only the keepers can read it: the server holds their public keys (``ZBOR_BACKUP_RECIPIENTS``),
never an identity. ``SECRET_KEY``, ``ZBOR_ENCRYPTION_KEYS`` and the env file are never in it.
"""

from __future__ import annotations

import fcntl
import os
import re
import tarfile
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.migrations.recorder import MigrationRecorder

from . import databases
from .archive import MANIFEST, ArchiveWriter, BackupError, Manifest, encrypt_stream, read_recipients

NAME = re.compile(r"^zbor-(\d{8}T\d{6}Z)\.tar\.age$")
STAMP = "%Y%m%dT%H%M%SZ"
PARTIAL_PREFIX = ".zbor-partial-"


def last_migrations() -> dict[str, str]:
    """The last migration applied of each app, as the database records them."""
    recorder = MigrationRecorder(connections["default"])
    last: dict[str, str] = {}
    for app, name in recorder.migration_qs.order_by("id").values_list("app", "name"):
        last[app] = name
    return last


def _contents(writer: ArchiveWriter, manifest: Manifest) -> None:
    count = iter(range(10**6))
    databases.dump(lambda part: writer.add_bytes(f"database/{manifest.vendor}.{next(count):03d}", part))
    writer.add_tree("private", Path(settings.ZBOR_PRIVATE_ROOT))
    writer.add_tree("media", Path(settings.MEDIA_ROOT))
    manifest.members = list(writer.members)
    _check(manifest)


def _check(manifest: Manifest) -> None:
    """The manifest describes a restorable backup: a database, and every member once."""
    names = [m["name"] for m in manifest.members]
    if not manifest.parts("database"):
        raise BackupError("the database dump is empty")
    if len(set(names)) != len(names):
        raise BackupError("a member appears twice in the archive")
    if not manifest.migrations:
        raise BackupError("the database has no migrations applied: there is nothing to back up")


def _lock(target: Path) -> int:
    fd = os.open(target / ".zbor-backup.lock", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise BackupError(f"another zbor backup is writing to {target}") from None
    # Partial files of a run that was killed (power loss, OOM): nobody else writes here now.
    for stale in target.glob(PARTIAL_PREFIX + "*"):
        stale.unlink(missing_ok=True)
    return fd


def make_backup(*, target: Path, recipients_file: Path, now: datetime | None = None) -> Path:
    """Write ``target/zbor-<UTC time>.tar.age``; returns its path. Raises BackupError, leaving
    no file behind, on any failure."""
    recipients = read_recipients(recipients_file)
    private, media = Path(settings.ZBOR_PRIVATE_ROOT).resolve(), Path(settings.MEDIA_ROOT).resolve()
    if private.is_relative_to(media) or media.is_relative_to(private):
        raise BackupError("ZBOR_PRIVATE_ROOT and ZBOR_MEDIA_ROOT must not lie one inside the other")
    try:
        target.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(f"cannot create {target}: {exc.strerror}") from None
    final = target / f"zbor-{(now or datetime.now(UTC)).strftime(STAMP)}.tar.age"
    if final.exists():
        raise BackupError(f"{final} already exists")
    try:
        migrations = last_migrations()
    except DatabaseError as exc:
        raise BackupError(f"cannot read the database: {str(exc).strip().splitlines()[0]}") from None
    manifest = Manifest(
        zbor_version=version("zbor"),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        vendor=databases.vendor(),
        migrations=migrations,
    )
    lock = _lock(target)
    partial = target / f"{PARTIAL_PREFIX}{final.name}"
    try:
        with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:

            def produce(pipe) -> None:
                try:
                    with tarfile.open(fileobj=pipe, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                        writer = ArchiveWriter(tar)
                        _contents(writer, manifest)
                        writer.add_bytes(MANIFEST, manifest.to_bytes())
                finally:
                    connections.close_all()  # this thread's own (SQLite's online backup)

            encrypt_stream(out, recipients, produce)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, final)
        _sync_dir(target)
    except OSError as exc:
        raise BackupError(f"cannot write the backup in {target}: {exc.strerror or exc}") from None
    finally:
        partial.unlink(missing_ok=True)
        os.close(lock)
    return final


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def prune(target: Path, *, days: int, now: datetime | None = None) -> list[Path]:
    """Delete the backups in ``target`` older than ``days`` days (by the time in their name)."""
    limit = (now or datetime.now(UTC)) - timedelta(days=days)
    removed = []
    for path in sorted(target.glob("zbor-*.tar.age")):
        match = NAME.match(path.name)
        if match and datetime.strptime(match.group(1), STAMP).replace(tzinfo=UTC) < limit:
            path.unlink()
            removed.append(path)
    return removed
