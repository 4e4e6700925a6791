"""The shared cache (Redis) that is never a single point of failure.

Redis is a cache and a counter for Zbor, never the only place something can happen: while it
cannot be reached, giving must still work. ``ResilientRedisCache`` is Django's ``RedisCache``
(``CACHES`` picks it whenever ``REDIS_URL`` is set) that, when Redis does not answer, keeps
answering from a local-memory cache of the process instead of raising:

- The first failed call logs ONE warning for the outage (not one per request) and later calls
  go straight to the local cache; Redis is tried again every ``RETRY_SECONDS``. The first try
  that reaches Redis deletes there every key this process wrote or deleted meanwhile, before
  its own call, so Redis never serves a value older than what the process saw during the
  outage (a translation edited then, for instance); it ends the outage (one INFO line).
- Counters that every app server must share (rate limits) are NOT counted locally: each
  process would count alone, and a botnet spread over N processes would get N times the limit.
  ``count`` answers None while Redis is down and ``zbor.ratelimit`` counts in the database then.
- Redis is asked with short socket timeouts (``CONNECT_TIMEOUT``, ``SOCKET_TIMEOUT``, unless
  ``OPTIONS`` names others): a Redis host that drops packets costs a request a second, once
  per ``RETRY_SECONDS``, not the operating system's two minutes.

The outage is a property of the process (Django gives each thread its own cache object): the
state lives in module-level ``_Outage`` objects, one per ``LOCATION``.

Only connection failures and timeouts count as an outage; any other Redis error (a wrong
command, out of memory) still raises: it is a bug or a configuration to fix, not an outage to
hide.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from functools import partial
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

#: What a Redis that cannot be reached raises (redis-py wraps socket errors in these).
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
#: Seconds between two attempts to reach a Redis that did not answer.
RETRY_SECONDS = 5.0
CONNECT_TIMEOUT = 1.0
SOCKET_TIMEOUT = 2.0
#: Keys remembered during an outage, to be deleted from Redis when it answers again.
REMEMBERED_KEYS = 10_000


class _Outage:
    """Whether Redis at one location is down, for the whole process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.since: float | None = None
        self.next_try = 0.0
        #: (key, version) pairs written or deleted locally while Redis was down.
        self.touched: set[tuple[str, int | None]] = set()
        self.overflowed = False

    def may_try(self) -> bool:
        return self.since is None or time.monotonic() >= self.next_try

    def began(self, error: Exception) -> None:
        now = time.monotonic()
        with self.lock:
            self.next_try = now + RETRY_SECONDS
            if self.since is not None:
                return
            self.since = now
        # The class name only: redis-py's messages carry the host and port, never data, but a
        # URL with a password must not reach a log by any path.
        log.warning(
            "Redis cannot be reached (%s): caching in this process's memory and counting rate "
            "limits in the database until it answers again (tried again every %d s).",
            type(error).__name__,
            RETRY_SECONDS,
        )

    def remember(self, keys, version: int | None) -> None:
        with self.lock:
            for key in keys:
                if len(self.touched) >= REMEMBERED_KEYS:
                    self.overflowed = True
                    return
                self.touched.add((key, version))

    def keys_to_forget(self) -> dict[int | None, list[str]]:
        """The keys changed during the outage, by version."""
        with self.lock:
            touched = list(self.touched)
        by_version: dict[int | None, list[str]] = {}
        for key, version in touched:
            by_version.setdefault(version, []).append(key)
        return by_version

    def ended(self) -> None:
        with self.lock:
            if self.since is None:
                return
            seconds = time.monotonic() - self.since
            overflowed = self.overflowed
            self.since, self.touched, self.overflowed = None, set(), False
        log.info("Redis answers again after %d s; back to the shared cache.", seconds)
        if overflowed:
            log.warning(
                "More than %d cache keys changed during the Redis outage: some values cached before it "
                "may be served until they expire.",
                REMEMBERED_KEYS,
            )


_OUTAGES: dict[str, _Outage] = {}
_OUTAGES_LOCK = threading.Lock()


def _outage_of(location: str) -> _Outage:
    with _OUTAGES_LOCK:
        return _OUTAGES.setdefault(location, _Outage())


class ResilientRedisCache(RedisCache):
    """Django's RedisCache, answering from a local-memory cache while Redis cannot be reached."""

    def __init__(self, server, params):
        options = {
            "socket_connect_timeout": CONNECT_TIMEOUT,
            "socket_timeout": SOCKET_TIMEOUT,
            **params.get("OPTIONS", {}),
        }
        super().__init__(server, {**params, "OPTIONS": options})
        location = server if isinstance(server, str) else ",".join(server)
        self.outage = _outage_of(location)
        # LocMemCache objects of one name share their store: one local cache per process.
        local_params = {k: v for k, v in params.items() if k in {"TIMEOUT", "KEY_PREFIX", "VERSION", "KEY_FUNCTION"}}
        self.local = LocMemCache(f"zbor-redis-fallback:{location}", local_params)

    # -- the outage ----------------------------------------------------------------------

    def _shared(self, call):
        """(True, call()) with ``call`` made on Redis, or (False, None) when Redis cannot be reached.

        During an outage, the first call that reaches Redis first deletes there the keys this
        process changed meanwhile: no caller ever reads a value older than the outage's."""
        outage = self.outage
        if outage.since is None:
            try:
                return True, call()
            except UNREACHABLE as error:
                outage.began(error)
                return False, None
        if not outage.may_try():
            return False, None
        try:
            for version, keys in outage.keys_to_forget().items():
                super().delete_many(keys, version=version)
            result = call()
        except UNREACHABLE as error:
            outage.began(error)
            return False, None
        outage.ended()
        self.local.clear()
        return True, result

    def _either(self, method: str, *args, **kwargs):
        answered, result = self._shared(partial(getattr(super(), method), *args, **kwargs))
        return result if answered else getattr(self.local, method)(*args, **kwargs)

    def _writing(self, method: str, touched_keys, touched_version, *args, **kwargs):
        answered, result = self._shared(partial(getattr(super(), method), *args, **kwargs))
        if answered:
            return result
        self.outage.remember(touched_keys, touched_version)
        return getattr(self.local, method)(*args, **kwargs)

    # -- Django's cache API ----------------------------------------------------------------

    def get(self, key, default=None, version=None):
        return self._either("get", key, default, version=version)

    def get_many(self, keys, version=None):
        return self._either("get_many", keys, version=version)

    def has_key(self, key, version=None):
        return self._either("has_key", key, version=version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._writing("add", [key], version, key, value, timeout, version=version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._writing("set", [key], version, key, value, timeout, version=version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._writing("touch", [key], version, key, timeout, version=version)

    def delete(self, key, version=None):
        return self._writing("delete", [key], version, key, version=version)

    def incr(self, key, delta=1, version=None):
        return self._writing("incr", [key], version, key, delta, version=version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._writing("set_many", list(data), version, data, timeout, version=version)

    def delete_many(self, keys, version=None):
        keys = list(keys)
        return self._writing("delete_many", keys, version, keys, version=version)

    def clear(self):
        # Only the local cache during an outage: its keys are then forgotten with it. (Redis's
        # clear empties the whole database, the task queue too when it shares it.)
        self.local.clear()
        return self._either("clear")

    # -- counters every app server shares --------------------------------------------------

    def count(self, key: str, *, timeout: int) -> int | None:
        """Add one to the shared counter ``key`` (which lives ``timeout`` seconds from its first
        hit) and return its value; None while Redis cannot be reached, for the caller to
        count somewhere shared (a local count would let each process count alone)."""
        answered, value = self._shared(partial(count_with, super(), key, timeout=timeout))
        return value if answered else None


def count_with(cache, key: str, *, timeout: int) -> int:
    """Add one to ``key`` in ``cache`` (``add`` then ``incr``, both atomic in Redis and memcached)."""
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr: this hit starts a new count
        cache.add(key, 1, timeout=timeout)
        return 1


def shared_count(key: str, *, timeout: int) -> int | None:
    """One more hit on the shared counter ``key``, or None while the shared cache cannot be
    reached (see ``ResilientRedisCache.count``)."""
    from django.core.cache import caches

    backend = caches["default"]
    if isinstance(backend, ResilientRedisCache):
        return backend.count(key, timeout=timeout)
    return count_with(backend, key, timeout=timeout)


class SingleFlight:
    """Values kept for ``seconds`` in this process, in a bounded table (the oldest entry goes
    first), each made by one thread at a time.

    When a value is too old, one thread makes the next while the others go on with the old one
    (or, for a value never made, wait for it): sixteen server threads finding a page expired
    together would otherwise render it sixteen times. ``seconds`` is a number or a function
    read at each store (a setting that tests change).

        pages = SingleFlight(seconds=1.0)
        html = pages.get_or_make(key, render, keep=lambda made: made is not None)
    """

    #: Seconds a thread waits for another's first make of a value before making its own.
    WAIT_SECONDS = 10

    def __init__(self, seconds: float | Callable[[], float], max_entries: int = 2000):
        self.seconds = seconds
        self.max_entries = max_entries
        #: key -> (fresh until, on the monotonic clock; value)
        self.entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        #: Keys whose value is being made now, with an event set when it is done.
        self.making: dict[Hashable, threading.Event] = {}
        self.lock = threading.Lock()

    def clock(self) -> float:
        """The clock freshness is measured on: monotonic seconds."""
        return time.monotonic()

    def kept(self, key: Hashable) -> Any | None:
        """The value kept for ``key``, fresh or not, or None."""
        hit = self.entries.get(key)
        return None if hit is None else hit[1]

    def get_or_make(self, key: Hashable, make: Callable[[], Any], keep: Callable[[Any], bool] = lambda value: True):
        """The value kept for ``key`` while fresh, else ``make()``'s, kept if ``keep(value)``."""
        hit = self.entries.get(key)
        if hit is not None and hit[0] > self.clock():
            return hit[1]
        with self.lock:
            making = self.making.get(key)
            if making is None:
                done = self.making[key] = threading.Event()
        if making is not None:
            if hit is not None:  # another thread makes the next one: this caller takes the last
                return hit[1]
            making.wait(timeout=self.WAIT_SECONDS)  # the first one: wait for the make under way
            hit = self.entries.get(key)
            return hit[1] if hit is not None else make()
        try:
            value = make()
            if keep(value):
                self._store(key, value)
            return value
        finally:
            with self.lock:
                del self.making[key]
            done.set()

    def _store(self, key: Hashable, value: Any) -> None:
        seconds = self.seconds() if callable(self.seconds) else self.seconds
        with self.lock:
            self.entries.pop(key, None)
            self.entries[key] = (self.clock() + seconds, value)
            while len(self.entries) > self.max_entries:
                self.entries.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
