"""Health checks for load balancers and systemd: ``/healthz`` (the process is alive) and
``/readyz`` (it can serve: database, replica lag, Redis, the task broker).

Both are answered by ``HealthCheckMiddleware``, the first entry of ``MIDDLEWARE``, which also
answers an authorized metrics scrape (``/metrics``, zbor/metrics.py) first. Why a
middleware and not a view or a WSGI wrapper:

- A view runs after the other middleware: SecurityMiddleware would redirect a plain-HTTP probe
  to https://, CommonMiddleware calls ``request.get_host()``, which raises ``DisallowedHost``
  (a logged traceback per probe) for a load balancer that probes by IP, SessionMiddleware and
  CsrfViewMiddleware could set cookies, and LocaleMiddleware would redirect to a language
  prefix. Answering first, without ever calling ``get_host()``, skips all of that.
- A WSGI wrapper in config/wsgi.py would do the same, but only under a WSGI server: the test
  client, ``zbor runserver`` and ASGI would not see it. A middleware is Django's documented
  extension point and runs everywhere. config/wsgi.py's PublicPageCache passes these paths
  straight through (zbor/site/fastpath.py), so no answer of theirs is ever kept.

Nothing here loads a model: ``/readyz`` runs one trivial query per database, a PING per Redis,
and opens the SQLite queue file, each bounded by ``CHECK_TIMEOUT``. The answer names the
failing parts only (``database``, ``replica``, ``redis``, ``tasks``): no exception text, no host
names. An operator finds the cause in the log: one warning when a part starts failing (its name
and the exception's class), one line when it works again — never a line per probe. ``zbor ready`` runs the same checks from a shell (the worker's unit).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse

from zbor import metrics

log = logging.getLogger(__name__)

HEALTHZ, READYZ = "/healthz", "/readyz"
HEALTH_PATHS = frozenset({HEALTHZ, READYZ})
#: Seconds each check may take (a Redis connect or reply, the SQLite queue's lock).
CHECK_TIMEOUT = 2.0

# A replica's lag in seconds; 0 when it has replayed everything it received (an idle primary
# writes nothing, so the last replayed transaction's time grows old on a replica that is fully
# caught up, and is NULL until the replica replays its first one), and 0 on a server that is not
# in recovery (the alias names a primary). NULL (not ready) when it has WAL to replay but has
# replayed no transaction yet.
PG_REPLICA_LAG = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
    ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())
END
"""


def _text(body: str, status: int = 200) -> HttpResponse:
    response = HttpResponse(body + "\n", status=status, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    # What every other answer carries, though these come before the middleware that adds it.
    response["X-Frame-Options"] = "DENY"
    response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
    return response


class HealthCheckMiddleware:
    """Answers ``/healthz`` and ``/readyz`` before any other middleware (see the module)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path not in HEALTH_PATHS:
            if path == metrics.PATH and metrics.authorized(request):
                return metrics.answer(request)  # the scraper's, for the same reasons (zbor/metrics.py)
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = _text("method not allowed", status=405)
            response["Allow"] = "GET, HEAD"
            return response
        if path == HEALTHZ:
            return _text("ok")
        failing = readiness()
        return _text("ready") if not failing else _text("not ready: " + " ".join(failing), status=503)


class DropHealthChecks(logging.Filter):
    """A logging filter for ``django.request`` and ``django.server``: Django logs every answer
    of 400 or more (a 503 from ``/readyz`` each time a load balancer probes during an outage);
    the health checks are kept out of request logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        path = getattr(getattr(record, "request", None), "path_info", None)
        if path is None and isinstance(record.args, tuple) and record.args:
            # django.server (runserver): the request line, ("GET /readyz HTTP/1.1", status, size).
            words = str(record.args[0]).split(" ")
            path = words[1].split("?")[0] if len(words) > 1 else None
        return path not in HEALTH_PATHS


# ---------------------------------------------------------------------------------------------
# The checks: each returns None when the part works, else raises.


def check_database() -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def replica_lag_seconds(alias: str = "replica") -> float | None:
    """How far the database ``alias`` is behind its primary, in seconds (0 off PostgreSQL, where
    Zbor's replica is a copy it does not measure); None when it cannot tell (not ready)."""
    connection = connections[alias]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.execute("SELECT 1")
            cursor.fetchone()
            return 0.0
        cursor.execute(PG_REPLICA_LAG)
        (lag,) = cursor.fetchone()
    return None if lag is None else float(lag)


def check_replica() -> None:
    lag = replica_lag_seconds("replica")
    if lag is None or lag > settings.ZBOR_READY_MAX_REPLICA_LAG_SECONDS:
        raise NotReady("replica lag")


def _ping_redis(url: str | None = None, **connection) -> None:
    import redis  # only where Redis is configured

    options = {"socket_connect_timeout": CHECK_TIMEOUT, "socket_timeout": CHECK_TIMEOUT, "retry_on_timeout": False}
    client = redis.Redis.from_url(url, **options) if url else redis.Redis(**{**connection, **options})
    try:
        client.ping()
    finally:
        client.close()


def check_redis() -> None:
    # Not through Django's cache: zbor.cache.ResilientRedisCache answers from memory while Redis
    # is down (by design), and its timeouts are the cache's, not a probe's.
    _ping_redis(settings.REDIS_URL)


def check_tasks() -> None:
    """The huey broker the worker reads: Redis answers PING, or the SQLite queue file opens as a
    database and can be written (the file, or its folder before the first task makes it)."""
    huey: dict[str, Any] = settings.HUEY
    if huey.get("immediate"):
        return  # tasks run in the request's process: there is no broker
    if "Redis" in str(huey.get("huey_class", "")):
        _ping_redis(**huey.get("connection", {}))
        return
    path = Path(huey["filename"])
    if not path.exists():
        if not os.access(path.parent, os.W_OK):
            raise NotReady("task queue folder not writable")
        return
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        raise NotReady("task queue file not writable")
    queue = sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True, timeout=CHECK_TIMEOUT)
    try:
        queue.execute("SELECT count(*) FROM sqlite_master").fetchone()
    finally:
        queue.close()


class NotReady(Exception):
    pass


def _checks() -> list[tuple[str, Callable[[], None]]]:
    checks = [("database", check_database)]
    if "replica" in settings.DATABASES:
        checks.append(("replica", check_replica))
    if settings.REDIS_URL:
        checks.append(("redis", check_redis))
    checks.append(("tasks", check_tasks))
    return checks


class _Failures:
    """The parts failing now, to log each change once (not once per probe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.failing: set[str] = set()

    def record(self, name: str, error: Exception | None) -> None:
        with self.lock:
            was = name in self.failing
            if error is not None:
                self.failing.add(name)
            else:
                self.failing.discard(name)
        if error is not None and not was:
            # The exception's class only: its text may name a host, a user or a path.
            log.warning("Readiness check failing: %s (%s)", name, type(error).__name__)
        elif error is None and was:
            log.info("Readiness check passing again: %s", name)


_failures = _Failures()


PARTS = ("database", "replica", "redis", "tasks")


def readiness(parts: Collection[str] = PARTS) -> list[str]:
    """The names of the parts that are not ready (of ``parts``, those configured), in a fixed
    order; empty when all are."""
    failing = []
    for name, check in _checks():
        if name not in parts:
            continue
        try:
            check()
        except Exception as error:  # whatever a driver raises: the part is not ready
            _failures.record(name, error)
            failing.append(name)
        else:
            _failures.record(name, None)
    return failing
