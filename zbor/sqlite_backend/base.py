"""Django's SQLite backend, with the writers of one process queued in that process.

The embedded default runs every transaction ``BEGIN IMMEDIATE``, so that two writers queue
instead of failing half-way. But SQLite queues them by polling: a writer that finds the
database locked sleeps (1, 2, 5, 10, … up to 100 ms) and tries again, so under load most of
the time goes to sleeping while the lock is free. Sixteen server threads sending bank pledges
at once made 175 a second with a p99 of 1.3 s that way. Here a thread first takes a lock of
its process, and only the thread holding it asks SQLite for the write lock: the others wait
their turn without sleeping. Other processes (the task worker) still queue through SQLite.

A statement that writes outside a transaction (autocommit: one INSERT is its own transaction)
takes the same turn, for as long as SQLite holds its lock: a statement returning rows
(``INSERT … RETURNING``) holds it until they are read, so they are read at once.

Selected by config/settings/base.py for SQLite databases.
"""

from __future__ import annotations

import threading

from django.db.backends.sqlite3 import base

#: One writer at a time in this process (re-entrant: a thread may hold two connections).
WRITER = threading.RLock()

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


#: Queries as SQLite reads them ("?" for "%s"), by Django's text: Django rewrites each query
#: with a regular expression every time (8 µs for a donation's INSERT). Bounded: a program
#: making endless different queries would only stop filling it.
_CONVERTED: dict[str, str] = {}
_CONVERTED_MAX = 4096


class WriterCursor(base.SQLiteCursorWrapper):
    """Django's cursor; a write outside a transaction runs in the process's turn (WRITER)."""

    _rows: list | None = None

    def convert_query(self, query, *, param_names=None):
        if param_names is not None:
            return super().convert_query(query, param_names=param_names)
        converted = _CONVERTED.get(query)
        if converted is None:
            converted = super().convert_query(query)
            if len(_CONVERTED) < _CONVERTED_MAX:
                _CONVERTED[query] = converted
        return converted

    def execute(self, query, params=None):
        self._rows = None
        if self.connection.in_transaction or not query.lstrip()[:7].upper().startswith(_WRITES):
            return super().execute(query, params)
        with WRITER:
            super().execute(query, params)
            if self.description is not None:  # RETURNING: SQLite's lock is held until the rows are read
                self._rows = super().fetchall()
        return self

    def fetchone(self):
        if self._rows is None:
            return super().fetchone()
        return self._rows.pop(0) if self._rows else None

    def fetchmany(self, size=None):
        if self._rows is None:
            return super().fetchmany(self.arraysize if size is None else size)
        size = self.arraysize if size is None else size
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    def fetchall(self):
        if self._rows is None:
            return super().fetchall()
        rows, self._rows = self._rows, []
        return rows

    def __iter__(self):
        return iter(self.fetchone, None) if self._rows is not None else super().__iter__()


class DatabaseWrapper(base.DatabaseWrapper):
    holds_writer = False

    def create_cursor(self, name=None):
        return self.connection.cursor(factory=WriterCursor)

    def _start_transaction_under_autocommit(self):
        WRITER.acquire()
        self.holds_writer = True
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # Django's private hooks, not in the stubs
        except BaseException:
            self._release_writer()
            raise

    def _commit(self):
        try:
            super()._commit()  # type: ignore[misc]  # Django's private hooks, not in the stubs
        finally:
            self._release_writer()

    def _rollback(self):
        try:
            super()._rollback()  # type: ignore[misc]  # Django's private hooks, not in the stubs
        finally:
            self._release_writer()

    def _close(self):
        try:
            super()._close()  # type: ignore[misc]  # Django's private hooks, not in the stubs
        finally:
            self._release_writer()

    def _release_writer(self):
        if self.holds_writer:
            self.holds_writer = False
            WRITER.release()
