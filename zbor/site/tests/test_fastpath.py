"""The public pages' fast path (zbor/site/fastpath.py): what it keeps, what it never keeps, and
that a new donation shows on every language's page and in the API within the freshness bound."""

import io
import re
import threading
import time
import types
from unittest import mock

import pytest
from django.core import signing
from django.core.handlers.wsgi import WSGIHandler

from tests.helpers import DEMO
from zbor.cache import SingleFlight
from zbor.donations.services import record_demo_donation
from zbor.site.fastpath import MINE_MAX_AGE, PERSONAL_RENDERS, PublicPageCache, Recent, mine_signer


def environ(path: str, method: str = "GET", **extra) -> dict:
    query = ""
    if "?" in path:
        path, query = path.split("?", 1)
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.version": (1, 0),
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }
    env.update(extra)
    return env


def call(app, path, method="GET", **extra) -> tuple[str, dict, bytes]:
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(app(environ(path, method, **extra), start_response))
    return seen["status"], seen["headers"], body


class Counting:
    """A stand-in for Django that counts its calls and answers what it is told."""

    def __init__(self, headers, status="200 OK"):
        self.calls, self.headers, self.status = 0, headers, status

    def __call__(self, env, start_response):
        self.calls += 1
        start_response(self.status, list(self.headers))
        return [f"render {self.calls}".encode()]


def test_a_public_page_is_rendered_once_a_second_and_served_from_memory_in_between():
    app = Counting([("Cache-Control", "public, max-age=1"), ("ETag", '"v1"')])
    fast = PublicPageCache(app, seconds=0.2)
    bodies = [call(fast, "/en/campaigns/x/")[2] for _ in range(50)]
    assert app.calls == 1 and set(bodies) == {b"render 1"}
    assert call(fast, "/en/campaigns/x/", HTTP_IF_NONE_MATCH='"v1"')[0].startswith("304")
    assert call(fast, "/en/campaigns/x/", "HEAD")[2] == b""
    with mock.patch("zbor.cache.time.monotonic", return_value=time.monotonic() + 0.25):  # past the 0.2 s
        assert call(fast, "/en/campaigns/x/")[2] == b"render 2"
    assert call(fast, "/en/campaigns/x/?page=2")[2] == b"render 3"  # the query is part of the key
    assert call(fast, "/en/campaigns/x/", HTTP_HOST="other.example")[2] == b"render 4"


@pytest.mark.parametrize(
    "headers",
    [
        [("Cache-Control", "max-age=0, no-cache, no-store, must-revalidate, private")],
        [],
        [("Cache-Control", "public, max-age=1"), ("Set-Cookie", "csrftoken=x")],
        [("Cache-Control", "public, max-age=1"), ("Vary", "Cookie")],
        [("Cache-Control", "public, no-store")],
    ],
)
def test_anything_not_plainly_public_is_never_kept(headers):
    app = Counting(headers)
    fast = PublicPageCache(app, seconds=60)
    for _ in range(3):
        call(fast, "/en/campaigns/x/donate/")
    assert app.calls == 3 and not fast.entries


def test_errors_posts_and_pending_flash_messages_go_to_django():
    app = Counting([("Cache-Control", "public, max-age=1")], status="404 Not Found")
    fast = PublicPageCache(app, seconds=60)
    call(fast, "/en/campaigns/nope/")
    call(fast, "/en/campaigns/nope/")
    assert app.calls == 2
    app = Counting([("Cache-Control", "public, max-age=1")])
    fast = PublicPageCache(app, seconds=60)
    call(fast, "/en/", "POST")
    call(fast, "/en/", HTTP_COOKIE="messages=" + signing.get_cookie_signer(salt="django.contrib.messages").sign("abc"))
    assert app.calls == 2 and not fast.entries


def donor_cookie(marks: str = "a" * 32) -> str:
    return f"csrftoken=x; zbor_donations={mine_signer().sign(marks)}"


def test_a_browser_that_just_gave_sees_the_page_as_it_is_now():
    app = Counting([("Cache-Control", "public, max-age=1")])
    fast = PublicPageCache(app, seconds=60)
    call(fast, "/en/campaigns/a/")
    assert call(fast, "/en/campaigns/a/", HTTP_COOKIE=donor_cookie())[2] == b"render 2"
    assert call(fast, "/en/campaigns/a/")[2] == b"render 1" and app.calls == 2


def test_a_forged_or_old_donor_cookie_gets_the_shared_page():
    app = Counting([("Cache-Control", "public, max-age=1")])
    fast = PublicPageCache(app, seconds=60)
    call(fast, "/en/campaigns/a/")
    for forged in [
        "zbor_donations=id:sig",
        "zbor_donations=" + donor_cookie().split("=")[-1][:-2] + "xx",
        "messages=abc:def",
    ]:
        assert call(fast, "/en/campaigns/a/", HTTP_COOKIE=forged)[2] == b"render 1"
    cookie, later = donor_cookie(), time.time() + MINE_MAX_AGE + 5
    with mock.patch("time.time", return_value=later):  # the signature's clock: an hour and more later
        assert call(fast, "/en/campaigns/a/", HTTP_COOKIE=cookie)[2] == b"render 1"
    assert app.calls == 1


def test_one_donor_cookie_replayed_renders_a_few_pages_a_minute_then_the_shared_one():
    """A bank pledge yields a genuine cookie a botnet can replay from many machines: it buys
    PERSONAL_RENDERS renders a minute per process, then the same cached page as anyone."""
    app = Counting([("Cache-Control", "public, max-age=1")])
    fast = PublicPageCache(app, seconds=60)
    call(fast, "/en/campaigns/a/")
    cookie = donor_cookie()
    now = time.monotonic()
    with mock.patch("zbor.site.fastpath.time.monotonic", return_value=now):
        bodies = [call(fast, "/en/campaigns/a/", HTTP_COOKIE=cookie)[2] for _ in range(1000)]
    assert app.calls == 1 + PERSONAL_RENDERS
    assert bodies.count(b"render 1") == 1000 - PERSONAL_RENDERS
    # Another genuine cookie has its own few; the first has more once the minute is over.
    assert call(fast, "/en/campaigns/a/", HTTP_COOKIE=donor_cookie("b" * 32))[2] == f"render {app.calls}".encode()
    with mock.patch("zbor.site.fastpath.time.monotonic", return_value=now + 61):
        call(fast, "/en/campaigns/a/", HTTP_COOKIE=cookie)
    assert app.calls == 3 + PERSONAL_RENDERS


def test_the_table_is_bounded():
    app = Counting([("Cache-Control", "public, max-age=1")])
    fast = PublicPageCache(app, seconds=60, max_entries=10)
    for n in range(100):
        call(fast, f"/en/campaigns/?page={n}")
    assert len(fast.entries) == 10


def test_many_first_visitors_at_once_cause_one_render():
    rendering, release = threading.Event(), threading.Event()

    class Slow(Counting):
        def __call__(self, env, start_response):
            rendering.set()
            assert release.wait(5)  # still rendering while the other visitors arrive
            return super().__call__(env, start_response)

    app = Slow([("Cache-Control", "public, max-age=1")])
    fast = PublicPageCache(app, seconds=60)
    threads = [threading.Thread(target=call, args=(fast, "/en/")) for _ in range(16)]
    for thread in threads:
        thread.start()
    assert rendering.wait(5)
    release.set()
    for thread in threads:
        thread.join()
    assert app.calls == 1


def test_a_recent_value_is_made_by_one_thread_while_the_others_use_the_last(settings):
    settings.ZBOR_PAGE_CACHE_SECONDS = 60
    recent, made = Recent(), []
    making, release = threading.Event(), threading.Event()

    def make():
        made.append(1)
        making.set()
        assert release.wait(5)  # a slow make: the other callers arrive meanwhile
        return len(made)

    def ask(into):
        into.append(recent.get_or_make("key", make))

    first: list = []
    threads = [threading.Thread(target=ask, args=(first,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    assert making.wait(5)
    release.set()
    for thread in threads:
        thread.join()
    assert first == [1] * 8 and len(made) == 1  # the first value: made once, the others waited
    making.clear()
    release.clear()
    later: list = []
    with mock.patch("zbor.cache.time.monotonic", return_value=time.monotonic() + 61):  # too old now
        maker = threading.Thread(target=ask, args=(later,))
        maker.start()
        assert making.wait(5)
        ask(later)  # while the maker makes the next: the last one, at once
        release.set()
        maker.join()
        assert later == [1, 2] and len(made) == 2
        assert recent.get_or_make("key", make) == 2
    assert recent.get_or_make("other", lambda: None, keep=lambda value: value is not None) is None
    assert recent.get_or_make("other", lambda: "kept") == "kept"


@pytest.fixture
def django_app():
    """Django's own WSGI handler behind the fast path, as config/wsgi.py builds it. Like Django's
    test client, it must not close the test's database connection at the end of each request
    (PostgreSQL would lose the test's transaction)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def text(body: bytes) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body.decode()))


@pytest.mark.django_db
def test_a_new_donation_shows_on_every_language_and_in_the_api_within_the_bound(
    demo, settings, django_app, monkeypatch
):
    # Time is controlled: a loaded machine may take longer than the bound to render four pages.
    settings.ZBOR_PAGE_CACHE_SECONDS = 1.0
    now = [time.monotonic()]
    monkeypatch.setattr(SingleFlight, "clock", lambda self: now[0])
    fast = PublicPageCache(django_app)
    pages = {lang: f"/{lang}/campaigns/{DEMO}/" for lang in ("en", "ru", "be", "pl")}
    before = {lang: call(fast, path) for lang, path in pages.items()}
    assert all(
        status.startswith("200") and headers["Cache-Control"] == "public, max-age=1"
        for status, headers, _ in before.values()
    )
    api = call(fast, f"/api/v1/campaigns/{DEMO}")[2]
    assert b'"amount":68300' in api.replace(b" ", b"")
    record_demo_donation(demo, amount=2500)
    now[0] += 0.9
    assert "€683 of €2,000" in text(call(fast, pages["en"])[2])  # served from memory within the second
    now[0] += 0.2  # past the bound: every page and the API answer afresh
    fresh = {lang: text(call(fast, path)[2]) for lang, path in pages.items()}
    api = call(fast, f"/api/v1/campaigns/{DEMO}")[2]
    assert all("708" in page for page in fresh.values()), fresh
    assert b'"amount":70800' in api.replace(b" ", b"")
    assert "€708 of €2,000" in fresh["en"]


@pytest.mark.django_db
def test_personal_and_staff_pages_never_pass_through_the_cache(demo, settings, django_app):
    fast = PublicPageCache(django_app)
    for path in (f"/en/campaigns/{DEMO}/donate/", "/backoffice/login/", "/api/v1/staff/donations/pending-bank"):
        call(fast, path)
        call(fast, path)
    assert not fast.entries


@pytest.mark.django_db
def test_public_reads_go_to_the_replica_and_everything_else_to_the_primary(client, demo, settings, monkeypatch):
    """With DATABASE_REPLICA_URL set, the router sends the reads of public pages and of the
    public API to the replica; the donate form, the staff API and every write use the primary."""
    from zbor import db
    from zbor.campaigns.models import Campaign
    from zbor.site import donate_views, views

    seen = []
    for module, name in ((views, "public_campaign"), (donate_views, "donatable_campaign")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda slug, real=real: (seen.append(db._public.get()), real(slug))[1])
    assert client.get(f"/en/campaigns/{DEMO}/").status_code == 200
    assert client.get(f"/en/campaigns/{DEMO}/donate/").status_code == 200
    assert seen == [True, False]

    router = db.ReplicaRouter()
    monkeypatch.setattr(db, "settings", types.SimpleNamespace(DATABASES={"default": {}, "replica": {}}))
    assert router.db_for_read(Campaign) == "default"
    with db.public_reads():
        assert router.db_for_read(Campaign) == "replica" and router.db_for_write(Campaign) == "default"
    assert router.allow_migrate("replica", "campaigns") is False


DONATE = f"/en/campaigns/{DEMO}/donate/"
# The pledge with its reference, one INSERT (1), and two rate counters (2) unless they are in Redis.
PLEDGE_QUERIES = {False: 3, True: 1}


@pytest.mark.django_db
def test_the_donate_form_is_rendered_once_a_second_and_each_visitor_gets_their_own_keys(
    client, demo, django_assert_num_queries
):
    first = client.get(DONATE).content.decode()
    with django_assert_num_queries(0):
        second = client.get(DONATE).content.decode()

    def field(html, name):
        return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)

    assert field(first, "idempotency_key") != field(second, "idempotency_key")
    assert field(first, "csrfmiddlewaretoken") != field(second, "csrfmiddlewaretoken")
    assert "zbor-mark" not in first + second
    tasks = [re.search(r'data-challenge="([^"]+)"', html).group(1) for html in (first, second)]
    assert tasks[0] != tasks[1]


@pytest.mark.django_db(transaction=True)  # as in production: not inside a test's transaction
def test_starting_a_payment_costs_a_fixed_number_of_queries(client, demo, settings, django_assert_num_queries):
    """The campaign, its needs and its money are read once a second for every visitor (as the
    form page is); a pledge itself writes its row with its reference, and counts its limits."""
    import uuid

    settings.ZBOR_PAGE_CACHE_SECONDS = 60
    # The campaign, its needs (2), its texts (2), its money, and the fund its monthly gifts go to
    # once it closes, with that fund's title (2: the form says where they go).
    with django_assert_num_queries(8):
        client.get(DONATE)
    for n in range(2):  # the same count for the first and a later pledge
        with django_assert_num_queries(PLEDGE_QUERIES[bool(settings.REDIS_URL)]):
            response = client.post(
                DONATE, {"amount": str(20 + n), "method": "bank", "idempotency_key": uuid.uuid4().hex}
            )
        assert response.status_code == 302
