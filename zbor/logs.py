"""Logs an operator can use, without personal data (docs/deploy.md, "Logs").

- ``RequestLogMiddleware``: every request gets an id (16 random hex digits, or a trusted proxy's
  ``X-Request-ID`` when ``ZBOR_TRUST_REQUEST_ID`` is on and it is 16 to 32 lowercase hex digits),
  returned in the ``X-Request-ID`` header, and one ``zbor.requests`` line: method, the URL
  pattern's name (never the path: it carries tokens and ids), status and duration. Health
  probes (``/healthz``, ``/readyz``) are neither logged nor given an id.
  The public page cache (zbor/site/fastpath.py) gives each copy it serves an id and a line too.
- ``event(name, **fields)``: a business event as a line of its own (logger ``zbor.events``).
  Callers pass ids and counts only: never a name, an email, an address or an amount.
- ``JsonFormatter`` (``LOG_FORMAT=json``): one JSON object per record, a traceback included
  in it (``exc_type``, ``traceback``) rather than spread over lines, with the request's id.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import secrets
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from zbor import metrics

requests_log = logging.getLogger("zbor.requests")
events_log = logging.getLogger("zbor.events")

#: The id of the request being served in this thread (or task), for every record logged meanwhile.
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("zbor_request_id", default=None)

#: Paths that are not logged: load balancers' health probes, several a second.
UNLOGGED = ("/healthz", "/readyz")
#: What a trusted proxy's X-Request-ID may be (nginx's $request_id is 32 hex digits).
INCOMING_ID = re.compile(r"[0-9a-f]{16,32}")


def new_request_id() -> str:
    return secrets.token_hex(8)


def event(name: str, **fields: str | int) -> None:
    """Log business event ``name`` ("donation.started") with ``fields``: ids and counts only."""
    text = " ".join(f"{key}={value}" for key, value in fields.items())
    events_log.info("%s %s", name, text, extra={"event": name, "fields": fields})


#: Where the request's route is left in the WSGI environ.
ROUTE_KEY = "zbor.route"


def log_request(method: str, route: str | None, status: int, started: float, *, cached: bool = False) -> None:
    """The request's line, and its count in the metrics (zbor/metrics.py): ``started`` is its
    ``time.perf_counter()`` when it came in, ``cached`` says the page cache served a copy.
    Nothing is made when the line is not written (text logs: ``zbor.requests`` at WARNING) and
    metrics are off, since every copy the page cache serves passes here."""
    seconds = time.perf_counter() - started
    metrics.observe_request(method, route, status, seconds, cached=cached)
    if not requests_log.isEnabledFor(logging.INFO):
        return
    fields = {
        "method": method,
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 1),
    }
    requests_log.info("request %s %s %s %sms", *fields.values(), extra={"event": "request", "fields": fields})


def route_of(request: HttpRequest) -> str | None:
    """The URL pattern's name ("site:donation_status"), or its route when it has none; None when
    no pattern matched (a 404, a static file, a redirect made before the URL was resolved)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return None
    return match.view_name or match.route or None


class RequestLogMiddleware:
    """First in MIDDLEWARE: it times everything below it and sees every response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(UNLOGGED):
            return self.get_response(request)
        rid = self._id(request)
        token = request_id.set(rid)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = rid
            route = route_of(request)
            # For the public page cache (zbor/site/fastpath.py), which logs the copies it serves.
            request.META[ROUTE_KEY] = route  # the WSGI environ itself
            log_request(request.method or "", route, response.status_code, started)
            return response
        finally:
            request_id.reset(token)

    @staticmethod
    def _id(request: HttpRequest) -> str:
        incoming = request.headers.get("X-Request-ID", "")
        if settings.ZBOR_TRUST_REQUEST_ID and INCOMING_ID.fullmatch(incoming):
            return incoming
        return new_request_id()


class RequestIdFilter(logging.Filter):
    """Puts the id of the request being served on every record (None outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line.

    Always: ``timestamp`` (UTC), ``level``, ``logger``, ``event`` ("log" unless the record names
    one), ``message``, ``request_id``. An event's fields are added as they are; nothing else a
    record carries is (Django's ``request``, for one, has the client's address and cookies). A
    record of Django's about a request (``django.request``, ``django.security``) names the
    route instead of the path, and ``status`` when it has one. With an exception: ``exc_type``
    and ``traceback`` (the whole formatted traceback, one string).
    """

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        request = getattr(record, "request", None)
        if isinstance(request, HttpRequest):
            message = _without_path(message, request)
        line: dict[str, object] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": getattr(record, "event", None) or "log",
            "message": message,
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update({k: v for k, v in fields.items() if k not in line})
        status = getattr(record, "status_code", None)
        if isinstance(status, int):
            line.setdefault("status", status)
        if isinstance(request, HttpRequest):
            line.setdefault("route", route_of(request))
        if record.exc_info and record.exc_info[0] is not None:
            line["exc_type"] = record.exc_info[0].__name__
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip()
            line["traceback"] = _without_path(text, request) if isinstance(request, HttpRequest) else text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


def _without_path(text: str, request: HttpRequest) -> str:
    """``text`` with the request's path (and query) replaced by its route's name."""
    route = route_of(request) or "(unmatched path)"
    for path in sorted({request.get_full_path(), request.path, request.path_info}, key=len, reverse=True):
        if path and path != "/":
            text = text.replace(path, route)
    return text
