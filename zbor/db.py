"""The database: a read replica for public reads, and one plain INSERT for the hottest writes.

Public pages and public API reads run inside ``public_reads()``; everything else — every write,
every staff screen, the donate form — reads and writes the primary (DATABASE_REPLICA_URL, when
there is one). A replica a little behind only makes a public total a little older, never a
payment wrong.
"""

from __future__ import annotations

import functools
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import CharField, Model, TextField

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


def insert(obj: Model, *, on_conflict: str = "") -> bool:
    """Write a new row for ``obj`` with one ``INSERT`` (``RETURNING`` its id but on SQLite), as ``obj.save()``
    would (defaults, ``auto_now_add``, the database's types), without the ORM building the
    statement anew each time: for a bank pledge, that was a tenth of its cost.

    ``on_conflict``, such as ``"(provider, event_id) DO NOTHING"``, makes a row that is there
    already return False instead of raising IntegrityError. Writes to the primary."""
    primary = connections[DEFAULT_DB_ALIAS]  # the connection itself: each use of the proxy is a lookup
    values = []
    for field, plain in _insert_fields(type(obj)):
        value = field.pre_save(obj, add=True)
        values.append(value if plain and type(value) is str else field.get_db_prep_save(value, primary))
    with primary.cursor() as cursor:
        cursor.execute(_insert_sql(type(obj), primary.vendor, on_conflict), values)
        if primary.vendor == "sqlite":
            # Without RETURNING the statement is done, and SQLite's lock let go, in one step.
            if cursor.rowcount != 1:
                return False
            obj.pk = cursor.lastrowid
        else:
            row = cursor.fetchone()
            if row is None:
                return False
            obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = primary.alias
    return True


#: Methods whose Django versions leave a ``str`` as it is: a text field keeping them all
#: writes a string value unchanged, without the calls.
_PREPARATION = ("pre_save", "get_prep_value", "get_db_prep_value", "get_db_prep_save")


def _plain_text(field) -> bool:
    return any(
        isinstance(field, base) and all(getattr(type(field), name) is getattr(base, name) for name in _PREPARATION)
        for base in (CharField, TextField)
    )


@functools.cache
def _insert_fields(model: type[Model]) -> list[tuple]:
    """The fields an INSERT writes, each with whether it is plain text."""
    return [(f, _plain_text(f)) for f in model._meta.concrete_fields if not f.primary_key]


@functools.cache
def _insert_sql(model: type[Model], vendor: str, on_conflict: str) -> str:
    quote, pk = connection.ops.quote_name, model._meta.pk
    fields = [field for field, _plain in _insert_fields(model)]
    assert pk is not None
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(str(f.column)) for f in fields)}) "  # noqa: S608 - names from the model
        f"VALUES ({', '.join(['%s'] * len(fields))})"
        + (f" ON CONFLICT {on_conflict}" if on_conflict else "")
        + ("" if vendor == "sqlite" else f" RETURNING {quote(str(pk.column))}")
    )


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
