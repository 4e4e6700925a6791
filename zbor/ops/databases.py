"""Dumping the database into the archive and restoring it, for PostgreSQL and SQLite.

PostgreSQL: ``pg_dump --format=custom`` out, ``pg_restore --single-transaction`` in, both with the
connection in PG* environment variables (the password never on a command line, where ``ps``
shows it). SQLite: SQLite's online backup API, never a copy of the live file (its WAL holds the
latest writes). Staff sessions and unlocked casework sessions are left out: a restored copy
starts with everybody signed out and casework locked.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from django.db import connections

from .archive import PART_BYTES, BackupError

#: Tables whose rows stay out of every backup (their structure is kept).
SKIPPED_TABLES = ("django_session", "cases_casesession")


def vendor() -> str:
    return connections["default"].vendor


def _pg_env() -> dict[str, str]:
    db = connections["default"].settings_dict
    env = {**os.environ, "PGDATABASE": db["NAME"], "PGAPPNAME": "zbor-backup"}
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[var] = str(db[key])
    options = db.get("OPTIONS", {})
    for key, var in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT")):
        if options.get(key):
            env[var] = str(options[key])
    return env


def _stderr_line(handle) -> str:
    handle.seek(0)
    lines = [line.strip() for line in handle.read().decode(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def dump(add_part: Callable[[bytes], None]) -> None:
    """The database, handed to ``add_part`` in parts of at most PART_BYTES."""
    if vendor() == "postgresql":
        dump_postgresql(add_part)
    elif vendor() == "sqlite":
        _sqlite_dump(add_part)
    else:
        raise BackupError(f"cannot back up a {vendor()} database")


def dump_postgresql(add_part: Callable[[bytes], None]) -> None:
    command = ["pg_dump", "--format=custom", "--no-password"]
    command += [f"--exclude-table-data={table}" for table in SKIPPED_TABLES]
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, env=_pg_env())  # noqa: S603
        except OSError as exc:
            raise BackupError(f"cannot run pg_dump: {exc.strerror}") from None
        assert process.stdout is not None  # noqa: S101 - stdout=PIPE
        try:
            while part := process.stdout.read(PART_BYTES):
                add_part(part)
        finally:
            process.stdout.close()
            code = process.wait()
        if code != 0:
            raise BackupError(f"pg_dump failed (exit {code}): {_stderr_line(errors)}")


def _sqlite_dump(add_part: Callable[[bytes], None]) -> None:
    connection = connections["default"]
    connection.ensure_connection()
    copy = sqlite3.connect(":memory:")
    try:
        # Through Django's own connection: the same database whatever its name (a test's is in memory).
        connection.connection.backup(copy)
        for table in SKIPPED_TABLES:
            copy.execute(f'DELETE FROM "{table}"')  # noqa: S608 - fixed table names
        copy.commit()
        copy.execute("VACUUM")
        data = copy.serialize()
    except sqlite3.Error as exc:
        raise BackupError(f"the SQLite backup failed: {exc}") from None
    finally:
        copy.close()
    for start in range(0, len(data), PART_BYTES):
        add_part(data[start : start + PART_BYTES])


def is_empty() -> bool:
    """True when the database has no tables at all (nothing migrated, nothing to overwrite)."""
    connection = connections["default"]
    with connection.cursor() as cursor:
        return not connection.introspection.table_names(cursor)


def restore(parts: Iterable[bytes], archive_vendor: str) -> None:
    """Load the dumped parts into the (empty) database."""
    if archive_vendor != vendor():
        raise BackupError(f"the archive holds a {archive_vendor} database; this server uses {vendor()}")
    if vendor() == "postgresql":
        _pg_restore(parts)
    else:
        _sqlite_restore(parts)


def _pg_restore(parts: Iterable[bytes]) -> None:
    command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    command += ["--no-password", f"--dbname={connections['default'].settings_dict['NAME']}"]
    with tempfile.TemporaryFile() as errors:
        try:
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=errors, env=_pg_env())  # noqa: S603
        except OSError as exc:
            raise BackupError(f"cannot run pg_restore: {exc.strerror}") from None
        assert process.stdin is not None  # noqa: S101 - stdin=PIPE
        try:
            for part in parts:
                process.stdin.write(part)
        except BrokenPipeError:
            pass  # pg_restore stopped: its exit code and message say why
        except BaseException:
            # A part failed its checksum, or the archive could not be read: pg_restore must not
            # see a clean end of its input and commit what it got so far.
            process.kill()
            process.wait()
            raise
        finally:
            try:
                process.stdin.close()
            except BrokenPipeError:
                pass
            code = process.wait()
        if code != 0:
            raise BackupError(f"pg_restore failed (exit {code}), nothing was restored: {_stderr_line(errors)}")


def _sqlite_restore(parts: Iterable[bytes]) -> None:
    data = b"".join(parts)
    target_path = Path(connections["default"].settings_dict["NAME"])
    if str(target_path) == ":memory:" or "mode=memory" in str(target_path):
        raise BackupError("cannot restore into an in-memory SQLite database")
    connections.close_all()
    _private_file(target_path)
    copy = sqlite3.connect(":memory:")
    target = sqlite3.connect(target_path)
    try:
        copy.deserialize(data)
        copy.backup(target)
    except sqlite3.Error as exc:
        raise BackupError(f"the SQLite restore into {target_path} failed: {exc}") from None
    finally:
        target.close()
        copy.close()
    for path in (target_path, *(target_path.with_name(target_path.name + end) for end in ("-wal", "-shm"))):
        if path.exists():
            os.chmod(path, 0o600)


def _private_file(path: Path) -> None:
    """The database file, made 0600 before anything is written in it: SQLite gives its -wal and
    -shm the database's mode, so none of them is ever readable by another local account."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        os.chmod(path, 0o600)
    except OSError as exc:
        raise BackupError(f"cannot create {path}: {exc.strerror}") from None
