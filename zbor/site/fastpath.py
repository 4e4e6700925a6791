"""Public pages at close to static speed: a short-lived cache in front of Django, in each process.

A public page (one whose response says ``Cache-Control: public``) is kept, bytes and headers,
for ``ZBOR_PAGE_CACHE_SECONDS`` (1 s): every other request for it in that second is answered by
this WSGI wrapper without entering Django — no middleware, no URL resolution, no query. When
the second is over, the next request renders the page again while the others keep getting the
previous copy, so a page is never more than about a second plus one render behind the ledger,
in every process and on every machine, with nothing to purge.

What is never kept: anything not marked public (the donate form, the status page, the staff
screens, the API's staff part all say ``private``/``no-store``), a response that sets a cookie
or varies on anything but the encoding, and any status but 200. The health checks
(``/healthz``, ``/readyz``) and the metrics scrape pass straight through, so that a probe always sees this process now. A request with a pending flash
message (``messages`` cookie) or from a browser that just gave (``zbor_donations``) is rendered
for it, but only when the cookie's signature holds and only a few times a minute per cookie
(``PersonalRenders``): past that, or forged, it gets the shared page like everyone else, so a
cookie replayed by a botnet costs no more than the cached page. The key is scheme, host, path
and query string, in a bounded table (the oldest entry goes first).

    application = PublicPageCache(get_wsgi_application())   # config/wsgi.py
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.core import signing
from django.http import HttpResponse, HttpResponsePermanentRedirect
from django.http.cookie import parse_cookie
from django.utils.encoding import escape_uri_path

from zbor import logs, metrics
from zbor.cache import SingleFlight
from zbor.db import public_reads
from zbor.health import HEALTH_PATHS

CACHEABLE_VARY = {"", "accept-encoding"}
#: The cookie of a browser that gave in the last hour (zbor.site.donate_views): its pages are
#: rendered for it, so that a donor back on the campaign sees their gift counted at once.
#: Opaque: keyed hashes of the donations' ids, signed with a time (``MINE_SIGNER``).
MINE_COOKIE = "zbor_donations"
MINE_MAX_AGE = 60 * 60
MINE_SALT = "zbor.site.mine"
#: A pending flash message (Django's cookie message storage, signed with this salt).
MESSAGES_COOKIE, MESSAGES_SALT = "messages", "django.contrib.messages"
#: Renders a personal cookie may cause per window and process; past that, the shared page.
PERSONAL_RENDERS, PERSONAL_WINDOW = 5, 60.0


def mine_signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=MINE_SALT)


def _signature(name: str, value: str) -> str | None:
    """The signature of a personal cookie if it is genuine (and, for the donations cookie, not
    older than MINE_MAX_AGE), else None."""
    try:
        if name == MINE_COOKIE:
            mine_signer().unsign(value, max_age=MINE_MAX_AGE)
        else:
            signing.get_cookie_signer(salt=MESSAGES_SALT).unsign(value)
    except signing.BadSignature:
        return None
    return value.rsplit(":", 1)[-1]


class PersonalRenders:
    """At most ``renders`` uncached renders per cookie (by its signature) per ``seconds``, in a
    bounded table (the oldest cookie goes first; a forgotten one starts again).

    A cookie's signature is checked once per ``seconds`` (an HMAC costs several times what
    serving a cached page does) and the verdict kept, in a bounded table too."""

    def __init__(self, renders: int = PERSONAL_RENDERS, seconds: float = PERSONAL_WINDOW, max_entries: int = 10000):
        self.renders, self.seconds, self.max_entries = renders, seconds, max_entries
        self.counts: OrderedDict[str, tuple[float, int]] = OrderedDict()
        self.checked: OrderedDict[tuple[str, str], tuple[float, str | None]] = OrderedDict()
        self.lock = threading.Lock()

    def signature(self, name: str, value: str) -> str | None:
        """``_signature(name, value)``, remembered for ``seconds``."""
        now = time.monotonic()
        kept = self.checked.get((name, value))
        if kept is not None and now < kept[0]:
            return kept[1]
        signature = _signature(name, value)
        with self.lock:
            self.checked.pop((name, value), None)
            self.checked[(name, value)] = (now + self.seconds, signature)
            while len(self.checked) > self.max_entries:
                self.checked.popitem(last=False)
        return signature

    def take(self, key: str) -> bool:
        now = time.monotonic()
        with self.lock:
            start, used = self.counts.pop(key, (now, 0))
            if now - start >= self.seconds:
                start, used = now, 0
            self.counts[key] = (start, used + 1)
            while len(self.counts) > self.max_entries:
                self.counts.popitem(last=False)
        return used < self.renders


@dataclass(frozen=True)
class Entry:
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    etag: str
    #: The page's route name, for the log line of each copy served (zbor/logs.py).
    route: str | None = None


def _is_entry(made) -> bool:
    return isinstance(made, Entry)


def _cacheable(status: str, headers: list[tuple[str, str]]) -> bool:
    if not status.startswith("200"):
        return False
    public = False
    for name, value in headers:
        lower = name.lower()
        if lower == "set-cookie":
            return False
        if lower == "vary" and not {v.strip().lower() for v in value.split(",")} <= CACHEABLE_VARY:
            return False
        if lower == "cache-control":
            directives = {d.strip().split("=")[0].lower() for d in value.split(",")}
            if "public" not in directives or directives & {"private", "no-store", "no-cache"}:
                return False
            public = True
    return public


class PublicPageCache:
    def __init__(self, app, *, seconds: float | None = None, max_entries: int = 2000):
        self.app = app
        self._seconds = seconds
        #: Pages by (scheme, host, path, query string), each rendered by one thread at a time.
        self.pages = SingleFlight(lambda: self.seconds, max_entries)
        self.personal = PersonalRenders()

    @property
    def seconds(self) -> float:
        if self._seconds is None:
            self._seconds = float(settings.ZBOR_PAGE_CACHE_SECONDS)
        return self._seconds

    @property
    def entries(self):
        """The pages kept now, fresh or not."""
        return self.pages.entries

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        cookies = environ.get("HTTP_COOKIE", "")
        if (
            method not in ("GET", "HEAD")
            or environ.get("PATH_INFO") in HEALTH_PATHS  # a probe sees this process, now
            or environ.get("PATH_INFO") == metrics.PATH  # a scrape too (zbor/metrics.py)
            or self.seconds <= 0
            or self._rendered_for_it(cookies)
        ):
            return self.app(environ, start_response)
        key = (
            environ.get("wsgi.url_scheme", "http"),
            environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
        )
        if method == "HEAD" and self.pages.kept(key) is None:
            return self.app(environ, start_response)
        # While one request renders a page again, the others get the copy of a second ago (or,
        # on the page's first visit, wait for that one render).
        started = time.perf_counter()
        made = self.pages.get_or_make(key, functools.partial(self._render, environ, start_response), keep=_is_entry)
        if not isinstance(made, Entry):
            return made
        if environ.get(logs.ROUTE_KEY, False) is not False:
            return self._serve(made, environ, start_response)  # this request rendered it: logged
        return self._serve_copy(made, environ, start_response, started)

    def _rendered_for_it(self, cookies: str) -> bool:
        """Whether this request carries a genuine personal cookie with renders left."""
        if MESSAGES_COOKIE + "=" not in cookies and MINE_COOKIE + "=" not in cookies:
            return False
        sent = parse_cookie(cookies)
        for name in (MESSAGES_COOKIE, MINE_COOKIE):
            value = sent.get(name)
            signature = self.personal.signature(name, value) if value else None
            if signature is not None and self.personal.take(f"{name}:{signature}"):
                return True
        return False

    def _render(self, environ, start_response):
        """The page as an Entry to keep, or the app's answer passed through as it is."""
        captured: dict = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            if exc_info is not None or not _cacheable(status, headers) or environ.get("REQUEST_METHOD") != "GET":
                captured["passed"] = True
                return start_response(status, headers, exc_info)
            return lambda data: None  # Django never uses write(); the body comes back as the iterable

        result = self.app(environ, capture)
        if captured.get("passed") or "status" not in captured:
            return result
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        headers = captured["headers"]
        etag = next((v for n, v in headers if n.lower() == "etag"), "")
        return Entry(captured["status"], headers, body, etag, environ.get(logs.ROUTE_KEY))

    def _serve_copy(self, entry: Entry, environ, start_response, started: float):
        """A kept page for another request: its own id in X-Request-ID, and its own log line."""
        rid = logs.new_request_id()
        headers = [(n, v) for n, v in entry.headers if n.lower() != "x-request-id"] + [("X-Request-ID", rid)]
        served: list[str] = []

        def respond(status, headers, exc_info=None):
            served.append(status)
            return start_response(status, headers, exc_info)

        answer = self._serve(Entry(entry.status, headers, entry.body, entry.etag, entry.route), environ, respond)
        token = logs.request_id.set(rid)
        try:
            logs.log_request(environ.get("REQUEST_METHOD", ""), entry.route, int(served[0][:3]), started, cached=True)
        finally:
            logs.request_id.reset(token)
        return answer

    @staticmethod
    def _serve(entry: Entry, environ, start_response):
        if entry.etag and environ.get("HTTP_IF_NONE_MATCH") == entry.etag:
            start_response("304 Not Modified", [(n, v) for n, v in entry.headers if n.lower() != "content-length"])
            return [b""]
        start_response(entry.status, entry.headers)
        return [b""] if environ.get("REQUEST_METHOD") == "HEAD" else [entry.body]


class Recent(SingleFlight):
    """Values kept for ZBOR_PAGE_CACHE_SECONDS (the donate form's page and the campaign data it
    validates against), each made by one thread at a time (``SingleFlight``), as the pages of
    PublicPageCache are."""

    def __init__(self, max_entries: int = 2000):
        super().__init__(lambda: settings.ZBOR_PAGE_CACHE_SECONDS, max_entries)


def freshness() -> str:
    """The Cache-Control of a public answer: kept no longer than a public page (the bound within
    which a new donation shows and an emergency unpublish reaches every cache)."""
    return f"public, max-age={math.ceil(settings.ZBOR_PAGE_CACHE_SECONDS)}"


def canonical_redirect(request, params: frozenset[str]) -> HttpResponse | None:
    """A permanent redirect to this page without the query parameters it does not read, or None.

    To every cache, each query string is another page: a share's ``fbclid`` (one per click) or
    an attack's random parameter would make each visit a render of its own. Sent to the
    address without them, such a visit costs a redirect, and the page then comes from the cache.
    """
    if not request.GET or params.issuperset(request.GET):
        return None
    kept = [
        (name, value)
        for name, value in parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True)
        if name in params
    ]
    path = "/" + escape_uri_path(request.path).lstrip("/")  # never "//host": a path on this site
    return HttpResponsePermanentRedirect(path + ("?" + urlencode(kept) if kept else ""))


def public_page(view=None, *, params: Iterable[str] = ()):
    """Mark a view's 200 answers as public pages: the same bytes for everyone, so browsers,
    the front server and PublicPageCache may keep them for ZBOR_PAGE_CACHE_SECONDS. A view
    that already set Cache-Control (a staff preview: no-store) keeps its own. Its reads go to
    the read replica when there is one. Query parameters other than ``params`` (those the view
    reads) are redirected away (``canonical_redirect``).

        @public_page                        # no query parameters
        @public_page(params=("page",))
    """
    if view is None:
        return functools.partial(public_page, params=params)
    allowed = frozenset(params)

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        redirect = canonical_redirect(request, allowed)
        if redirect is not None:
            return redirect
        with public_reads():
            response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.has_header("Cache-Control"):
            response["Cache-Control"] = freshness()
        return response

    return wrapped
