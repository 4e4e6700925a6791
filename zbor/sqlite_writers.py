"""SQLite connections whose writers, within one process, take turns in that process.

The embedded default runs every transaction ``BEGIN IMMEDIATE`` (Django's ``transaction_mode``
option), so that two writers queue instead of failing half-way. But SQLite queues them by
polling: a writer that finds the database locked sleeps (1, 2, 5, 10, … up to 100 ms) and
tries again, so under load most of the time goes to sleeping while the lock is free (the
figures are in docs/decisions/0008-framework-public-api.md). Here a thread first takes a lock
of its process, and only the thread holding it asks SQLite for the write lock: the others wait
their turn without sleeping. Other processes (the task worker) still queue through SQLite.

A statement that writes outside a transaction (autocommit: one INSERT is its own transaction)
takes the same turn, for as long as SQLite holds its lock: a statement returning rows
(``INSERT … RETURNING``) holds it until they are read, so they are read at once.

Installed through public hooks only: Django passes a database's OPTIONS to
``sqlite3.connect``, whose documented ``factory`` argument makes the connection a
``WriterConnection`` (config/settings/base.py; ``ZBOR_SQLITE_WRITER_QUEUE=off`` leaves it
out). Django's own backend is used unchanged. What this relies on, and what
tests/test_settings.py checks on every run: Django starts a transaction by
executing ``BEGIN …`` on a cursor of the connection, and ends it with the connection's
``commit()`` or ``rollback()``.
"""

from __future__ import annotations

import functools
import sqlite3
import threading

#: One writer at a time in this process (re-entrant: a thread may hold two connections).
WRITER = threading.RLock()

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class WriterConnection(sqlite3.Connection):
    """A connection that takes the process's turn (WRITER) from BEGIN to COMMIT or ROLLBACK."""

    holds_writer = False

    def cursor(self, factory=sqlite3.Cursor):
        return super().cursor(factory=_queued(factory))

    def take_turn(self) -> None:
        if not self.holds_writer:
            WRITER.acquire()
            self.holds_writer = True

    def end_turn(self) -> None:
        if self.holds_writer:
            self.holds_writer = False
            WRITER.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.end_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.end_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.end_turn()


class QueuedWrites:
    """Mixed into the cursor class Django asks for: BEGIN takes the turn; a write outside a
    transaction runs within it."""

    connection: WriterConnection
    _rows: list | None = None

    def execute(self, query, params=None):
        self._rows = None
        connection = self.connection
        verb = query.lstrip()[:7].upper()
        if verb.startswith("BEGIN"):
            connection.take_turn()
            try:
                return self._execute(query, params)
            except BaseException:
                connection.end_turn()
                raise
        if connection.in_transaction or not verb.startswith(_WRITES):
            return self._execute(query, params)
        with WRITER:
            self._execute(query, params)
            if self.description is not None:  # type: ignore[attr-defined]  # RETURNING: SQLite's lock is held until the rows are read
                self._rows = super().fetchall()  # type: ignore[misc]
        return self

    def _execute(self, query, params):
        if params is None:
            return super().execute(query)  # type: ignore[misc]
        return super().execute(query, params)  # type: ignore[misc]

    def fetchone(self):
        if self._rows is None:
            return super().fetchone()  # type: ignore[misc]
        return self._rows.pop(0) if self._rows else None

    def fetchmany(self, size=None):
        size = self.arraysize if size is None else size  # type: ignore[attr-defined]
        if self._rows is None:
            return super().fetchmany(size)  # type: ignore[misc]
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    def fetchall(self):
        if self._rows is None:
            return super().fetchall()  # type: ignore[misc]
        rows, self._rows = self._rows, []
        return rows

    def __iter__(self):
        return iter(self.fetchone, None) if self._rows is not None else super().__iter__()  # type: ignore[misc]


@functools.cache
def _queued(factory: type[sqlite3.Cursor]) -> type[sqlite3.Cursor]:
    """``factory`` (Django's SQLiteCursorWrapper) with the turns above, made once."""
    return type(f"Queued{factory.__name__}", (QueuedWrites, factory), {})
