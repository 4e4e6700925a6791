"""Prometheus metrics, off unless ``ZBOR_METRICS_TOKEN`` is set (docs/deploy.md, "Metrics").

- **The endpoint.** ``HealthCheckMiddleware`` (zbor/health.py), first in ``MIDDLEWARE``, hands
  over ``GET /metrics`` carrying ``Authorization: Bearer <ZBOR_METRICS_TOKEN>`` (compared in
  constant time) on any host name and over plain HTTP, like ``/readyz``: a scraper reaches the
  app servers by address on the private network. Anything else on that path (metrics off, no
  token, a wrong one) goes on into Django and gets its ordinary 404, so a visitor cannot tell
  whether metrics are on. The answer is ``no-store``, is never kept by the page cache, and is
  neither logged nor counted itself.
- **Counted as it happens** (``observe_request``, ``count_webhook_failure``): requests by route
  name (the URL pattern's name that zbor/logs.py logs, never the path), method and status
  class, the page cache's copies included; their duration by route; webhooks refused or failed
  by provider. granian runs several processes: with ``ZBOR_METRICS_DIR`` each keeps its counts
  in a file there (prometheus_client's multiprocess mode) and a scrape adds up every file, so it
  does not matter which process answers. The folder must be emptied when the server starts
  (systemd's ``RuntimeDirectory``), never while it runs.
- **Read at scrape time** (``Gauge``): facts that live in the database or the task queue, each
  from a function registered with ``register`` (the task queue in zbor/tasks.py; donations,
  bank lines, events, receipts and reconcile in zbor/donations/metrics.py). A source that fails
  (the database is down) is left out and ``zbor_metrics_source_up{source=…}`` says 0.

Labels come from small fixed sets only: route names, methods, status classes, provider names,
statuses. Never an id, a slug, an amount, an address or a path.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

log = logging.getLogger(__name__)

PATH = "/metrics"
#: Methods counted by name; any other a client makes up is counted as "other".
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: Why a webhook was not taken: bad signature or malformed ("refused", 400), the provider did
#: not answer while it was read ("unavailable", 503), handling raised ("failed", 500).
WEBHOOK_FAILURES = ("refused", "unavailable", "failed")
#: Request duration buckets, seconds: a page cache copy takes well under a millisecond.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STATUS_CLASSES = {n: f"{n}xx" for n in range(1, 6)}
#: The route label of a request no URL pattern matched (a 404, a static file).
NO_ROUTE = "none"


def enabled() -> bool:
    return bool(settings.ZBOR_METRICS_TOKEN)


def directory() -> str:
    """The folder the server processes share their counts in; "" for one process alone."""
    return settings.ZBOR_METRICS_DIR or os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


# ---------------------------------------------------------------------------------------------
# Counted as it happens.


class _Instruments:
    """This process's counters, made on first use. prometheus_client chooses between memory and
    the shared folder when it is first imported, from PROMETHEUS_MULTIPROC_DIR: it is set here,
    from ZBOR_METRICS_DIR, before that import."""

    def __init__(self) -> None:
        shared = directory()
        #: False when ZBOR_METRICS_DIR can be neither found nor made: nothing is counted, and a
        #: scrape gets a 503 saying why, rather than every request a 500.
        self.usable = not shared or _usable_folder(shared)
        if shared and self.usable:
            os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", shared)
        from prometheus_client import CollectorRegistry, Counter, Histogram

        # Not prometheus_client's global registry: nothing else is exported by accident.
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "zbor_http_requests",
            "Requests answered, by route name, method, status class and what answered them "
            "(app, or page_cache for a copy of a public page).",
            ["route", "method", "status", "served_by"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "zbor_http_request_duration_seconds",
            "Time to answer a request, by route name.",
            ["route"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.webhook_failures = Counter(
            "zbor_webhook_failures",
            "Provider webhooks not taken, by provider and reason (refused, unavailable, failed).",
            ["provider", "reason"],
            registry=self.registry,
        )
        #: Each label set's counter and histogram, looked up once: what a request costs is then
        #: two dictionary lookups and the two updates (labels come from small fixed sets).
        self.children: dict[tuple[str, str, str, str], tuple[Any, Any]] = {}

    def observe(self, labels: tuple[str, str, str, str], seconds: float) -> None:
        children = self.children.get(labels)
        if children is None:
            children = self.children[labels] = (self.requests.labels(*labels), self.duration.labels(labels[0]))
        children[0].inc()
        children[1].observe(seconds)


def _usable_folder(shared: str) -> bool:
    """ZBOR_METRICS_DIR exists (made 0700 if missing: systemd's RuntimeDirectory normally makes
    it) and this process may write there; otherwise one error line, once per process."""
    try:
        os.makedirs(shared, mode=0o700, exist_ok=True)
    except OSError as exc:
        log.error("ZBOR_METRICS_DIR %s cannot be created (%s): metrics are not counted", shared, exc.strerror)
        return False
    if not os.access(shared, os.W_OK | os.X_OK):
        log.error("ZBOR_METRICS_DIR %s is not writable by this process: metrics are not counted", shared)
        return False
    return True


_made: _Instruments | None = None
_making = threading.Lock()


def _instruments() -> _Instruments:
    global _made
    if _made is None:
        with _making:
            if _made is None:
                _made = _Instruments()
    return _made


def observe_request(method: str, route: str | None, status: int, seconds: float, *, cached: bool = False) -> None:
    """Count one answered request (nothing when metrics are off)."""
    if not enabled() or not _instruments().usable:
        return
    labels = (
        route or NO_ROUTE,
        method if method in METHODS else "other",
        STATUS_CLASSES.get(status // 100, "other"),
        "page_cache" if cached else "app",
    )
    _instruments().observe(labels, seconds)


def count_webhook_failure(provider: str, reason: str) -> None:
    """Count a webhook not taken; ``provider`` is a configured provider's name."""
    if not enabled() or not _instruments().usable:
        return
    assert reason in WEBHOOK_FAILURES, reason
    _instruments().webhook_failures.labels(provider, reason).inc()


# ---------------------------------------------------------------------------------------------
# Read at scrape time.


@dataclass(frozen=True)
class Gauge:
    """A value read at scrape time: ``samples`` maps label values (in ``labels`` order) to the
    value; no labels, one sample under ``()``."""

    name: str
    help: str
    samples: dict[tuple[str, ...], float]
    labels: tuple[str, ...] = ()


Source = Callable[[], Iterable[Gauge]]
_sources: dict[str, Source] = {}


def register(name: str, source: Source) -> None:
    """Read ``source`` at every scrape (apps register theirs in ``AppConfig.ready``)."""
    _sources[name] = source


class _Failing:
    """The sources failing now: one warning when one starts failing (its name and the error's
    class, never its text), one line when it is read again; not a line per scrape."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.names: set[str] = set()

    def record(self, name: str, error: Exception | None) -> None:
        with self.lock:
            was = name in self.names
            if error is None:
                self.names.discard(name)
            else:
                self.names.add(name)
        if error is not None and not was:
            log.warning("Metrics source %s could not be read (%s)", name, type(error).__name__)
        elif error is None and was:
            log.info("Metrics source %s is read again", name)


_failing = _Failing()


class _ScrapeTime:
    """A prometheus_client collector for the registered sources, each read on its own."""

    def describe(self) -> list:
        return []  # read only when scraped

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        up = GaugeMetricFamily(
            "zbor_metrics_source_up", "Whether a scrape-time source could be read (0: left out).", labels=["source"]
        )
        for name, source in sorted(_sources.items()):
            try:
                gauges = list(source())
            except Exception as error:  # a database or broker that is down: the others still answer
                _failing.record(name, error)
                up.add_metric([name], 0)
                continue
            _failing.record(name, None)
            up.add_metric([name], 1)
            for gauge in gauges:
                family = GaugeMetricFamily(gauge.name, gauge.help, labels=list(gauge.labels))
                for values, value in gauge.samples.items():
                    family.add_metric(list(values), value)
                yield family
        yield up


class _Own:
    """This process's counters, when it is the only process (no shared folder)."""

    def __init__(self, registry) -> None:
        self.registry = registry

    def describe(self) -> list:
        return []

    def collect(self) -> Iterator[Any]:
        yield from self.registry.collect()


def render() -> tuple[bytes, str]:
    """The scrape's body and content type: every process's counters, then the sources."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
    from prometheus_client.multiprocess import MultiProcessCollector

    instruments = _instruments()
    registry = CollectorRegistry(auto_describe=False)
    shared = directory()
    if shared:
        MultiProcessCollector(registry, path=shared)
    else:
        registry.register(_Own(instruments.registry))
    registry.register(_ScrapeTime())
    # Every name and label is plain ASCII with underscores: the classic text format, which every
    # Prometheus version (and other scrapers) reads.
    return generate_latest(registry), CONTENT_TYPE_PLAIN_0_0_4


# ---------------------------------------------------------------------------------------------
# The endpoint.


def authorized(request: HttpRequest) -> bool:
    """Whether the request carries the token, compared in constant time."""
    token = settings.ZBOR_METRICS_TOKEN
    if not token:
        return False
    sent = request.META.get("HTTP_AUTHORIZATION", "")
    expected = f"Bearer {token}".encode()
    return hmac.compare_digest(sent.encode("utf-8", "surrogateescape"), expected)


def answer(request: HttpRequest) -> HttpResponse:
    """The scrape, for a request ``authorized`` has let through (``HealthCheckMiddleware``)."""
    if request.method not in ("GET", "HEAD"):
        response = HttpResponse("method not allowed\n", status=405, content_type="text/plain; charset=utf-8")
        response["Allow"] = "GET, HEAD"
    elif not _instruments().usable:
        response = HttpResponse(
            "ZBOR_METRICS_DIR cannot be created or written: nothing is counted (see the server's log)\n",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    else:
        started = time.perf_counter()
        body, content_type = render()
        response = HttpResponse(b"" if request.method == "HEAD" else body, content_type=content_type)
        response["X-Scrape-Duration-Ms"] = f"{(time.perf_counter() - started) * 1000:.1f}"
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
