"""How the benchmark fixture (bench/fixture.py) writes its rows in bulk: COPY on PostgreSQL,
``executemany`` elsewhere; on PostgreSQL, the tables' indexes and constraints dropped for the load
and made again; on SQLite, a large page cache while it loads."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any


class Writer:
    """Bulk INSERTs: PostgreSQL's COPY, or ``executemany`` on other databases."""

    def __init__(self, connection):
        self.connection = connection
        self.postgres = connection.vendor == "postgresql"
        self.rows = 0

    def dt(self, value: datetime) -> Any:
        # SQLite keeps datetimes as naive UTC text, the way Django writes them.
        return value if self.postgres else value.replace(tzinfo=None).isoformat(" ")

    def day(self, value: date) -> Any:
        return value if self.postgres else value.isoformat()

    def uid(self, value: uuid.UUID) -> Any:
        return value if self.postgres else value.hex

    def insert(self, model, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        missing = {f.column for f in model._meta.concrete_fields} - set(columns)
        if missing:
            # A field added to the model since: give it a value here, as the code paths would.
            raise RuntimeError(f"bench/fixture.py writes no {sorted(missing)} for {model._meta.label}")
        quote = self.connection.ops.quote_name
        table = quote(model._meta.db_table)
        names = ", ".join(quote(c) for c in columns)
        rows = list(rows)
        if not rows:
            return
        with self.connection.cursor() as cursor:
            raw = cursor.cursor
            if self.postgres:
                with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})", rows)
        self.rows += len(rows)


class PostgresBulkLoad:
    """For a bulk load into PostgreSQL tables: their foreign keys, unique constraints and
    secondary indexes are dropped, then made again once the rows are in, inside the caller's
    transaction (nobody else sees the tables without them; a failure rolls it all back).

    Building an index once from sorted rows, and checking a foreign key with one join, is many
    times faster than maintaining them row by row (with random keys such as UUIDs) and queueing
    a deferred foreign key check for every row. Primary keys stay.
    """

    def __init__(self, connection, tables: Sequence[str]):
        self.connection = connection
        self.tables = list(tables)
        self.constraints: list[tuple[str, str, str]] = []  # (table, name, definition)
        self.indexes: list[tuple[str, str]] = []  # (name, definition)

    def drop(self) -> None:
        quote = self.connection.ops.quote_name
        with self.connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('u', 'f') ORDER BY contype DESC, conname",
                [self.tables],
            )
            self.constraints = list(cursor.fetchall())
            for table, name, _definition in self.constraints:
                cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
            cursor.execute(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
                "WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary ORDER BY 1",
                [self.tables],
            )
            self.indexes = list(cursor.fetchall())
            for name, _definition in self.indexes:
                cursor.execute(f"DROP INDEX {quote(name)}")

    def restore(self) -> None:
        quote = self.connection.ops.quote_name
        with self.connection.cursor() as cursor:
            for _name, definition in self.indexes:
                cursor.execute(definition)
            # Unique constraints first (ORDER BY contype DESC put them first), then foreign keys.
            for table, name, definition in self.constraints:
                cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")


@contextmanager
def large_sqlite_cache(connection) -> Iterator[None]:
    """On SQLite, a large page cache for this connection while it loads, put back afterwards.
    With the default (2 MB), every insert into an index with random keys (UUIDs) reads and
    writes pages through the WAL; with a large one the indexes stay in memory."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA cache_size = -524288")  # in KiB: up to 512 MB
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {before}")


def next_ids(models) -> dict[Any, int]:
    from django.db.models import Max

    return {m: m.objects.aggregate(top=Max("pk"))["top"] or 0 for m in models}
