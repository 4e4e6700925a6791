"""Public pages at close to static speed: a short-lived cache in front of Django, in each process.

A public page (one whose response says ``Cache-Control: public``) is kept, bytes and headers,
for ``ZBOR_PAGE_CACHE_SECONDS`` (1 s): every other request for it in that second is answered by
this WSGI wrapper without entering Django — no middleware, no URL resolution, no query. When
the second is over, the next request renders the page again while the others keep getting the
previous copy, so a page is never more than about a second plus one render behind the ledger,
in every process and on every machine, with nothing to purge.

What is never kept: anything not marked public (the donate form, the status page, the staff
screens, the API's staff part all say ``private``/``no-store``), a response that sets a cookie
or varies on anything but the encoding, and any status but 200. A request with a pending flash
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

from zbor.db import public_reads

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


@dataclass
class Entry:
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    etag: str
    fresh_until: float


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
        self.max_entries = max_entries
        self.entries: OrderedDict[tuple[str, str, str, str], Entry] = OrderedDict()
        #: Keys being rendered now, with an event set when the render is done.
        self.refreshing: dict[tuple[str, str, str, str], threading.Event] = {}
        self.lock = threading.Lock()
        self.personal = PersonalRenders()

    @property
    def seconds(self) -> float:
        if self._seconds is None:
            self._seconds = float(settings.ZBOR_PAGE_CACHE_SECONDS)
        return self._seconds

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        cookies = environ.get("HTTP_COOKIE", "")
        if method not in ("GET", "HEAD") or self.seconds <= 0 or self._rendered_for_it(cookies):
            return self.app(environ, start_response)
        key = (
            environ.get("wsgi.url_scheme", "http"),
            environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
        )
        entry = self.entries.get(key)
        if entry is not None and time.monotonic() < entry.fresh_until:
            return self._serve(entry, environ, start_response)
        if entry is None and method == "HEAD":
            return self.app(environ, start_response)
        with self.lock:
            rendering = self.refreshing.get(key)
            if rendering is None:
                done = self.refreshing[key] = threading.Event()
        if rendering is not None:
            if entry is not None:  # another thread renders it: this request gets the copy of a second ago
                return self._serve(entry, environ, start_response)
            rendering.wait(timeout=10)  # the first visit of a page: wait for the one render under way
            entry = self.entries.get(key)
            return self._serve(entry, environ, start_response) if entry else self.app(environ, start_response)
        try:
            return self._render(key, environ, start_response)
        finally:
            with self.lock:
                del self.refreshing[key]
            done.set()

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

    def _render(self, key, environ, start_response):
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
        entry = Entry(captured["status"], headers, body, etag, time.monotonic() + self.seconds)
        with self.lock:
            self.entries.pop(key, None)
            self.entries[key] = entry
            while len(self.entries) > self.max_entries:
                self.entries.popitem(last=False)
        return self._serve(entry, environ, start_response)

    @staticmethod
    def _serve(entry: Entry, environ, start_response):
        if entry.etag and environ.get("HTTP_IF_NONE_MATCH") == entry.etag:
            start_response("304 Not Modified", [(n, v) for n, v in entry.headers if n.lower() != "content-length"])
            return [b""]
        start_response(entry.status, entry.headers)
        return [b""] if environ.get("REQUEST_METHOD") == "HEAD" else [entry.body]


class Recent:
    """A bounded table of values kept for ZBOR_PAGE_CACHE_SECONDS (the donate form's page and
    the campaign data it validates against). The oldest entry goes first.

    When a value is too old, one thread makes the next while the others go on with the old one
    (or, for a value never made, wait for it), as PublicPageCache does for whole pages: sixteen
    server threads finding the form expired together would otherwise render it sixteen times."""

    def __init__(self, max_entries: int = 2000):
        self.max_entries = max_entries
        self.entries: dict = {}
        #: Keys whose value is being made now, with an event set when it is done.
        self.making: dict = {}
        self.lock = threading.Lock()

    def get_or_make(self, key, make, keep=lambda value: True):
        """The value kept for ``key``, or ``make()``'s, kept if ``keep(value)``."""
        hit = self.entries.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        with self.lock:
            making = self.making.get(key)
            if making is None:
                done = self.making[key] = threading.Event()
        if making is not None:
            if hit is not None:  # another thread makes the next one: this request takes the last
                return hit[1]
            making.wait(timeout=10)
            hit = self.entries.get(key)
            return hit[1] if hit is not None else make()
        try:
            value = make()
            if keep(value):
                self.entries.pop(key, None)
                self.entries[key] = (time.monotonic() + settings.ZBOR_PAGE_CACHE_SECONDS, value)
                while len(self.entries) > self.max_entries:
                    self.entries.pop(next(iter(self.entries)), None)
            return value
        finally:
            with self.lock:
                del self.making[key]
            done.set()

    def clear(self) -> None:
        self.entries.clear()


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
