"""/healthz and /readyz (zbor/health.py): answered before the Host check, without a database
for liveness, naming only the failing part for readiness, never cached, limited, logged or
given a cookie."""

import io
import logging
import os
import socket
import sqlite3
import time
from unittest import mock

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError, connection, connections
from django.test import Client, override_settings

from tests.postgres import run_here_or_on_postgres
from zbor import health
from zbor.site.fastpath import PublicPageCache

SECRET_HOST = "db.internal.example"
REDIS_TEST_URL = os.environ.get("ZBOR_TEST_REDIS_URL")


@pytest.fixture(autouse=True)
def fresh_failures():
    """Each test starts with no part known to be failing (the log says each change once)."""
    health._failures.failing.clear()
    yield
    health._failures.failing.clear()


def closed_port_url() -> str:
    """A Redis URL on this machine's loopback where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def sqlite_broker(filename) -> dict:
    return {**settings.HUEY, "immediate": False, "huey_class": "huey.SqliteHuey", "filename": str(filename)}


def assert_plain(response, status: int, body: str) -> None:
    assert response.status_code == status
    assert response.content == (body + "\n").encode()
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    assert response["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert not response.cookies


# ---------------------------------------------------------------------------------------------
# /healthz


def test_healthz_answers_a_probe_by_ip_without_a_database():
    # No django_db mark: pytest-django refuses every query, and the connection fails besides.
    failing = mock.patch.object(connections["default"], "ensure_connection", side_effect=OperationalError("down"))
    with failing as ensure:
        response = Client(HTTP_HOST="10.0.0.11:8000").get("/healthz")
    assert_plain(response, 200, "ok")
    assert not ensure.called
    # The same host on any other address is refused by Django's Host check: the probe is
    # answered before it.
    assert Client(HTTP_HOST="10.0.0.11:8000").get("/robots.txt").status_code == 400


@override_settings(SECURE_SSL_REDIRECT=True)
def test_healthz_over_plain_http_is_not_redirected_and_head_works():
    assert_plain(Client().get("/healthz"), 200, "ok")
    head = Client().head("/healthz")
    assert head.status_code == 200 and head["Cache-Control"] == "no-store"
    assert Client().get("/robots.txt").status_code == 301  # everything else goes to https://


def test_only_get_and_head():
    response = Client().post("/healthz")
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"
    assert not response.cookies


# ---------------------------------------------------------------------------------------------
# /readyz


@pytest.mark.django_db
def test_readyz_is_ready_on_a_healthy_setup(tmp_path):
    assert_plain(Client(HTTP_HOST="10.0.0.11").get("/readyz"), 200, "ready")
    # With the SQLite broker the worker reads: before the first task (the folder is writable)
    # and once the queue file exists.
    with override_settings(HUEY=sqlite_broker(tmp_path / "tasks.sqlite3")):
        assert_plain(Client().get("/readyz"), 200, "ready")
        sqlite3.connect(tmp_path / "tasks.sqlite3").close()
        assert_plain(Client().get("/readyz"), 200, "ready")


@pytest.mark.django_db
def test_readyz_names_the_database_and_nothing_else(caplog):
    error = OperationalError(f'could not connect to server "{SECRET_HOST}" (10.9.9.9), user "zbor"')
    # Every cursor asks ensure_connection first, connected or not: no need to close the test's
    # connection (on PostgreSQL that would end the test's transaction).
    with mock.patch.object(connections["default"], "ensure_connection", side_effect=error):
        with caplog.at_level(logging.DEBUG):
            first = Client().get("/readyz")
            second = Client().get("/readyz")
    assert_plain(first, 503, "not ready: database")
    assert second.content == first.content
    # One warning when the part starts failing, with the exception's class but not its text;
    # no request log line for either 503.
    assert [(r.name, r.getMessage()) for r in caplog.records] == [
        ("zbor.health", "Readiness check failing: database (OperationalError)")
    ]
    with caplog.at_level(logging.DEBUG):
        assert Client().get("/readyz").status_code == 200
    assert caplog.records[-1].getMessage() == "Readiness check passing again: database"


@pytest.mark.django_db
def test_readyz_names_redis_when_it_cannot_be_reached():
    with override_settings(REDIS_URL=closed_port_url()):
        response = Client().get("/readyz")
    assert_plain(response, 503, "not ready: redis")


@pytest.mark.django_db
def test_readyz_names_the_task_broker_when_it_cannot_be_reached(tmp_path):
    missing_folder = tmp_path / "gone" / "tasks.sqlite3"
    with override_settings(HUEY=sqlite_broker(missing_folder)):
        assert_plain(Client().get("/readyz"), 503, "not ready: tasks")
    not_a_database = tmp_path / "tasks.sqlite3"
    not_a_database.write_bytes(b"this is not a SQLite file" * 100)
    with override_settings(HUEY=sqlite_broker(not_a_database)):
        assert_plain(Client().get("/readyz"), 503, "not ready: tasks")
    redis_broker = {"immediate": False, "huey_class": "huey.RedisHuey", "connection": {"url": closed_port_url()}}
    with override_settings(HUEY={**settings.HUEY, **redis_broker}):
        assert_plain(Client().get("/readyz"), 503, "not ready: tasks")


@pytest.mark.django_db
def test_every_failing_part_is_named_in_order(tmp_path):
    with (
        mock.patch.object(connections["default"], "ensure_connection", side_effect=OperationalError("x")),
        override_settings(REDIS_URL=closed_port_url(), HUEY=sqlite_broker(tmp_path / "gone" / "q.sqlite3")),
    ):
        assert_plain(Client().get("/readyz"), 503, "not ready: database redis tasks")


@pytest.mark.django_db
def test_readyz_names_a_replica_too_far_behind():
    replica = {"replica": {**settings.DATABASES["default"]}}
    with mock.patch.dict(settings.DATABASES, replica):
        for lag, status in [(0.0, 200), (29.5, 200), (30.5, 503), (None, 503)]:
            with mock.patch.object(health, "replica_lag_seconds", return_value=lag):
                response = Client().get("/readyz")
            assert response.status_code == status, lag
            assert response.content == (b"ready\n" if status == 200 else b"not ready: replica\n")
        with (
            override_settings(ZBOR_READY_MAX_REPLICA_LAG_SECONDS=60),
            mock.patch.object(health, "replica_lag_seconds", return_value=45.0),
        ):
            assert Client().get("/readyz").status_code == 200


@pytest.mark.django_db
def test_replica_lag_is_zero_for_a_sqlite_copy():
    assert health.replica_lag_seconds("default") == 0.0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_replica_lag_query_on_postgresql():
    if not run_here_or_on_postgres(f"{__file__}::test_replica_lag_query_on_postgresql"):
        return
    assert connection.vendor == "postgresql"
    # The test server is a primary (not in recovery): no lag, although it replays nothing.
    assert health.replica_lag_seconds("default") == 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), pg_last_xact_replay_timestamp()")
        assert cursor.fetchone() == (False, None)
    assert_plain(Client().get("/readyz"), 200, "ready")


# ---------------------------------------------------------------------------------------------
# Never limited, cached, logged or given a cookie


@pytest.mark.django_db
def test_probes_are_never_rate_limited_logged_or_given_cookies(caplog):
    client = Client(REMOTE_ADDR="203.0.113.7")
    with caplog.at_level(logging.DEBUG):
        for _ in range(200):
            for path, body in (("/healthz", b"ok\n"), ("/readyz", b"ready\n")):
                response = client.get(path)
                assert response.status_code == 200 and response.content == body
                assert not response.cookies
    assert not caplog.records
    assert not client.cookies


def test_the_request_log_filter_drops_health_checks_only():
    drop = health.DropHealthChecks()

    def record(args, request=None):
        made = logging.LogRecord("django.server", logging.ERROR, __file__, 1, '"%s" %s %s', args, None)
        if request is not None:
            made.request = request
        return made

    assert not drop.filter(record(("GET /readyz HTTP/1.1", "503", "18")))
    assert not drop.filter(record(("GET /healthz?x=1 HTTP/1.1", "200", "3")))
    assert drop.filter(record(("GET /en/ HTTP/1.1", "500", "9")))
    assert not drop.filter(record(("x",), request=mock.Mock(path_info="/readyz")))
    assert drop.filter(record(("x",), request=mock.Mock(path_info="/readyz/")))


def test_the_public_page_cache_passes_health_checks_through():
    calls = []

    def app(environ, start_response):
        calls.append(environ["PATH_INFO"])
        start_response("200 OK", [("Cache-Control", "public, max-age=60")])
        return [b"ok\n"]

    fast = PublicPageCache(app, seconds=60)
    env = {"REQUEST_METHOD": "GET", "PATH_INFO": "/healthz", "QUERY_STRING": "", "SERVER_NAME": "x"}
    for path in ("/healthz", "/readyz", "/healthz", "/readyz", "/en/", "/en/"):
        assert b"".join(fast({**env, "PATH_INFO": path}, lambda *args: None)) == b"ok\n"
    assert calls == ["/healthz", "/readyz", "/healthz", "/readyz", "/en/"]  # the page is kept


@pytest.mark.django_db
def test_the_ready_command_says_what_readyz_says(tmp_path):
    out = io.StringIO()
    call_command("ready", stdout=out)
    assert out.getvalue() == "ready\n"
    with override_settings(REDIS_URL=closed_port_url(), HUEY=sqlite_broker(tmp_path / "gone" / "q.sqlite3")):
        with pytest.raises(CommandError, match=r"^not ready: redis tasks$") as failed:
            call_command("ready")
        assert failed.value.returncode == 1
        with pytest.raises(CommandError, match=r"^not ready: tasks$"):
            call_command("ready", "--part", "database", "--part", "tasks")
        call_command("ready", "--part", "database", stdout=io.StringIO())


@pytest.mark.django_db
def test_a_redis_that_never_answers_fails_within_the_check_timeout():
    with socket.socket() as silent:  # accepts connections (the backlog) and never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        started = time.monotonic()
        with mock.patch.object(health, "CHECK_TIMEOUT", 0.2), override_settings(REDIS_URL=url):
            response = Client().get("/readyz")
        assert time.monotonic() - started < 2
    assert_plain(response, 503, "not ready: redis")


@pytest.mark.redis
@pytest.mark.django_db
@pytest.mark.skipif(not REDIS_TEST_URL, reason="set ZBOR_TEST_REDIS_URL to a Redis server to run this test")
def test_readyz_on_a_real_redis_cache_and_broker():
    broker = {"immediate": False, "huey_class": "huey.RedisHuey", "connection": {"url": REDIS_TEST_URL}}
    with override_settings(REDIS_URL=REDIS_TEST_URL, HUEY={**settings.HUEY, **broker}):
        assert_plain(Client().get("/readyz"), 200, "ready")
