"""A read replica for public reads (DATABASE_REPLICA_URL), when there is one.

Public pages and public API reads run inside ``public_reads()``; everything else — every write,
every staff screen, the donate form — reads and writes the primary. A replica a little behind
only makes a public total a little older, never a payment wrong.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

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
