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
from django.db import connection
from django.db.models import Model

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
    """Write a new row for ``obj`` with one ``INSERT … RETURNING`` its id, as ``obj.save()``
    would (defaults, ``auto_now_add``, the database's types), without the ORM building the
    statement anew each time: for a bank pledge, that was a tenth of its cost.

    ``on_conflict``, such as ``"(provider, event_id) DO NOTHING"``, makes a row that is there
    already return False instead of raising IntegrityError. Writes to the primary."""
    fields = _insert_fields(type(obj))
    values = [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(type(obj), connection.vendor, on_conflict), values)
        row = cursor.fetchone()
    if row is None:
        return False
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = connection.alias
    return True


@functools.cache
def _insert_fields(model: type[Model]) -> list:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


@functools.cache
def _insert_sql(model: type[Model], vendor: str, on_conflict: str) -> str:
    quote, pk = connection.ops.quote_name, model._meta.pk
    fields = _insert_fields(model)
    assert pk is not None
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(str(f.column)) for f in fields)}) "  # noqa: S608 - names from the model
        f"VALUES ({', '.join(['%s'] * len(fields))})"
        + (f" ON CONFLICT {on_conflict}" if on_conflict else "")
        + f" RETURNING {quote(str(pk.column))}"
    )
