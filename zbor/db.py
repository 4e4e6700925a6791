"""The database: a read replica for public reads, raw reads for the public pages' hottest
queries, and erasing what deleted rows leave behind.

Public pages and public API reads run inside ``public_reads()``; everything else — every write,
every staff screen, the donate form — reads and writes the primary (DATABASE_REPLICA_URL, when
there is one). A replica a little behind only makes a public total a little older, never a
payment wrong.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, router

_public = ContextVar("zbor_public_reads", default=False)


@contextmanager
def public_reads():
    token = _public.set(True)
    try:
        yield
    finally:
        _public.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return "replica" if _public.get() and "replica" in settings.DATABASES else "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


def select(model, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    """The rows of ``sql``, a SELECT from ``model``'s table (and tables joined to it), read from
    the database the router names for ``model`` (the replica inside ``public_reads()``).

    Django's documented raw SQL (``connection.cursor()``), for the public pages' reads of
    translation rows: building such a query with the ORM costs ten times running it (ADR 0009),
    and an uncached page makes several. Values come as the database driver returns them, without
    the ORM's field converters, which differ by database: select text and integer columns, and
    dates through ``as_date``.
    """
    with connections[router.db_for_read(model)].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def as_date(value: datetime.date | str) -> datetime.date:
    """A DATE column's value as ``select`` returns it: PostgreSQL's driver gives a date,
    SQLite's the ISO text Django stored."""
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


def placeholders(count: int) -> str:
    """``%s, %s, …``: ``count`` parameter placeholders for an ``IN (…)`` of ``select``."""
    return ", ".join(["%s"] * count)


def erase_residue(*, wait_seconds: float | None = None) -> bool:
    """After personal data was overwritten or deleted, leave no copy of it in the database's files.

    SQLite (the embedded default) runs every connection with ``secure_delete`` on
    (config/settings/base.py): what a statement deletes or overwrites is zeroed in its page and
    free pages are zeroed. But in WAL mode the pages as they were before stay in the ``-wal``
    file until a checkpoint copies the new ones into the database, and even then the WAL file is
    only reused, not cleared. ``PRAGMA wal_checkpoint(TRUNCATE)`` copies every page and
    truncates the WAL to zero bytes. It waits (``wait_seconds``, else the connection's busy
    timeout) for connections still reading an older snapshot; if they outlast it, it returns
    False and the WAL still holds the old pages: run it again (``zbor erase_donor`` says so).

    PostgreSQL: True, and nothing is done here. An UPDATE leaves the old row version (a dead
    tuple) in the table's pages; VACUUM (autovacuum) marks its space reusable but does not
    overwrite it, so the bytes stay in the data files until new rows reuse the space; ``VACUUM
    FULL`` writes a new copy of the table and unlinks the old files, whose blocks the
    filesystem does not clear. The WAL segments and every base backup or replica keep the old
    values until they are recycled or pruned. Encrypted disks and the backup retention (see
    docs/deploy.md, "Erasure and what remains") are the controls there.
    """
    primary = connections[DEFAULT_DB_ALIAS]
    if primary.vendor != "sqlite":
        return True
    with primary.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        if cursor.fetchone()[0].lower() != "wal":
            return True  # no write-ahead log (an in-memory database): nothing outside the pages
        if wait_seconds is not None:
            cursor.execute("PRAGMA busy_timeout")
            (usual,) = cursor.fetchone()
            cursor.execute(f"PRAGMA busy_timeout={int(wait_seconds * 1000)}")
        try:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy, _log_frames, _checkpointed = cursor.fetchone()
        finally:
            if wait_seconds is not None:
                cursor.execute(f"PRAGMA busy_timeout={int(usual)}")
    return busy == 0
