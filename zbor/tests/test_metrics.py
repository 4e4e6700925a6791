"""/metrics (zbor/metrics.py): off by default, a bearer token in constant time, any host, never
cached, logged or counted itself; requests counted by route name, the page cache's copies too;
two processes' counts added up through the shared folder; the task queue's depth and age."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from tests import factories
from zbor import metrics, tasks
from zbor.site.fastpath import PublicPageCache
from zbor.site.tests.test_fastpath import call, django_app  # noqa: F401 - the fixture: Django behind the page cache

TOKEN = "metrics-test-token-0123456789abcdef"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def counts_in_memory(monkeypatch):
    """This process counts in memory (prometheus_client decides at its import); a test naming a
    shared folder reads other processes' files only."""
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings, "ZBOR_METRICS_DIR", "", raising=False)
        metrics._instruments()
    yield
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)


@pytest.fixture
def metrics_on(settings):
    settings.ZBOR_METRICS_TOKEN = TOKEN
    settings.ZBOR_METRICS_DIR = ""


def scrape(client: Client | None = None, **headers) -> dict[tuple[str, tuple], float]:
    response = (client or Client()).get("/metrics", headers={"authorization": f"Bearer {TOKEN}", **headers})
    assert response.status_code == 200, response.status_code
    return samples(response.content.decode())


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def requests_of(found, route: str, **labels) -> float:
    wanted = {"route": route, "method": "GET", "status": "2xx", "served_by": "app", **labels}
    return found.get(("zbor_http_requests_total", tuple(sorted(wanted.items()))), 0.0)


# ---------------------------------------------------------------------------------------------
# The endpoint


@pytest.mark.django_db
def test_off_by_default_the_path_is_an_ordinary_404_even_with_a_token(settings):
    assert settings.ZBOR_METRICS_TOKEN == ""
    response = Client().get("/metrics", headers={"authorization": "Bearer "})
    assert response.status_code == 404
    assert b"zbor_" not in response.content


@pytest.mark.django_db
@pytest.mark.usefixtures("metrics_on")
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        f"Bearer {TOKEN[:-1]}",
        f"Bearer {TOKEN}x",
        f"bearer {TOKEN}",
        TOKEN,
        "Bearer \u00e9",
    ],
)
def test_without_the_exact_token_it_is_the_same_404_as_when_off(authorization, settings):
    headers = {} if authorization is None else {"authorization": authorization}
    response = Client().get("/metrics", headers=headers)
    settings.ZBOR_METRICS_TOKEN = ""
    off = Client().get("/metrics", headers=headers)
    assert response.status_code == off.status_code == 404
    assert response.content == off.content
    assert b"zbor_" not in response.content


@pytest.mark.django_db
@pytest.mark.usefixtures("metrics_on")
def test_with_the_token_any_host_over_plain_http_gets_the_metrics_never_stored():
    response = Client().get(
        "/metrics", headers={"authorization": f"Bearer {TOKEN}", "host": "10.0.0.11:8000"}, secure=False
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies
    assert "X-Request-ID" not in response  # answered before the request log: not logged, not counted
    text = response.content.decode()
    assert "# TYPE zbor_http_requests_total counter" in text
    assert 'zbor_metrics_source_up{source="database"} 1.0' in text


@pytest.mark.django_db
@pytest.mark.usefixtures("metrics_on")
def test_other_methods_are_refused_and_head_has_no_body():
    client = Client(headers={"authorization": f"Bearer {TOKEN}"})
    assert client.post("/metrics").status_code == 405
    head = client.head("/metrics")
    assert head.status_code == 200 and head.content == b""


@pytest.mark.django_db
@pytest.mark.usefixtures("metrics_on")
@pytest.mark.parametrize("role", ["none", "editor", "finance", "admin"])
def test_a_signed_in_staff_member_of_any_role_sees_nothing_more(role):
    user = factories.role_user(role) if role != "none" else factories.staff_user(superuser=False)
    client = Client()
    client.force_login(user)
    assert client.get("/metrics").status_code == 404
    assert client.get("/en/metrics").status_code == 404
    superuser = Client()
    superuser.force_login(factories.staff_user())
    assert superuser.get("/metrics").status_code == 404


@pytest.mark.django_db
@pytest.mark.usefixtures("metrics_on")
def test_scrapes_are_not_counted_and_requests_are_counted_by_route_name(demo):
    before = scrape()
    client = Client()
    assert client.get(f"/en/campaigns/{demo.slug}/").status_code == 200
    assert client.get("/en/no-such-page/").status_code == 404
    after = scrape()
    assert requests_of(after, "site:campaign_detail") == requests_of(before, "site:campaign_detail") + 1
    assert requests_of(after, "none", status="4xx") == requests_of(before, "none", status="4xx") + 1
    assert not any(dict(labels).get("route", "").startswith("/") for _, labels in after)
    count = ("zbor_http_request_duration_seconds_count", (("route", "site:campaign_detail"),))
    assert after[count] == before.get(count, 0) + 1


@pytest.mark.django_db
@pytest.mark.usefixtures("metrics_on")
def test_a_copy_the_page_cache_serves_is_counted_as_served_by_the_page_cache(demo, django_app):  # noqa: F811
    # Read directly: the test client would connect again the signal that closes the connection.
    app = PublicPageCache(django_app, seconds=60)
    before = samples(metrics.render()[0].decode())
    for _ in range(3):
        assert call(app, f"/en/campaigns/{demo.slug}/")[0].startswith("200")
    after = samples(metrics.render()[0].decode())
    cached = requests_of(after, "site:campaign_detail", served_by="page_cache")
    assert cached == requests_of(before, "site:campaign_detail", served_by="page_cache") + 2
    assert requests_of(after, "site:campaign_detail") == requests_of(before, "site:campaign_detail") + 1


def test_made_up_methods_and_missing_routes_stay_in_their_fixed_labels(settings):
    settings.ZBOR_METRICS_TOKEN = TOKEN
    metrics.observe_request("BREW", None, 418, 0.001)
    found = samples(metrics.render()[0].decode())
    assert (
        "zbor_http_requests_total",
        (("method", "other"), ("route", "none"), ("served_by", "app"), ("status", "4xx")),
    ) in found
    assert not any("BREW" in str(labels) for _, labels in found)


def test_nothing_is_counted_when_off(settings):
    settings.ZBOR_METRICS_TOKEN = TOKEN
    before = samples(metrics.render()[0].decode())
    settings.ZBOR_METRICS_TOKEN = ""
    metrics.observe_request("GET", "site:home", 200, 0.01)
    metrics.count_webhook_failure("stripe", "refused")
    settings.ZBOR_METRICS_TOKEN = TOKEN
    after = samples(metrics.render()[0].decode())
    keys = [k for k in after if k[0] in ("zbor_http_requests_total", "zbor_webhook_failures_total")]
    assert all(after[k] == before.get(k, 0.0) for k in keys)


def test_a_source_that_fails_is_left_out_and_said_to_be_down(settings, caplog):
    settings.ZBOR_METRICS_TOKEN = TOKEN

    def broken():
        raise ConnectionError("secret-host.internal refused")

    metrics.register("broken-for-test", broken)
    try:
        text = metrics.render()[0].decode()
        metrics.render()  # still failing: not logged again
        metrics.register("broken-for-test", lambda: [])
        again = metrics.render()[0].decode()
    finally:
        metrics._sources.pop("broken-for-test")
    assert 'zbor_metrics_source_up{source="broken-for-test"} 0.0' in text
    assert 'zbor_metrics_source_up{source="broken-for-test"} 1.0' in again
    assert "secret-host" not in text and "secret-host" not in caplog.text
    assert [r.getMessage() for r in caplog.records if "broken-for-test" in r.getMessage()] == [
        "Metrics source broken-for-test could not be read (ConnectionError)",
        "Metrics source broken-for-test is read again",
    ]


# ---------------------------------------------------------------------------------------------
# Several processes


COUNT_IN_A_PROCESS = """
import django, sys
django.setup()
from zbor import metrics
for _ in range(int(sys.argv[1])):
    metrics.observe_request("GET", "site:home", 200, 0.002)
metrics.count_webhook_failure("stripe", "refused")
"""


def test_two_processes_counts_add_up_in_the_shared_folder(tmp_path, settings):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "ZBOR_METRICS_TOKEN": TOKEN,
        "ZBOR_METRICS_DIR": str(tmp_path),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    for n in (3, 4):
        subprocess.run([sys.executable, "-c", COUNT_IN_A_PROCESS, str(n)], env=env, cwd=ROOT, check=True, timeout=120)
    assert len(list(tmp_path.glob("counter_*.db"))) == 2  # one file per process
    settings.ZBOR_METRICS_TOKEN = TOKEN
    settings.ZBOR_METRICS_DIR = str(tmp_path)
    found = samples(metrics.render()[0].decode())
    assert requests_of(found, "site:home") == 7
    assert found[("zbor_http_request_duration_seconds_count", (("route", "site:home"),))] == 7
    assert found[("zbor_webhook_failures_total", (("provider", "stripe"), ("reason", "refused")))] == 2


# ---------------------------------------------------------------------------------------------
# The task queue


def test_a_stamped_task_id_says_when_it_was_made_and_a_random_one_does_not():
    made = datetime(2026, 12, 5, 3, 0, 0, 123000, tzinfo=UTC).timestamp()
    stamped = tasks.stamped_id(made)
    assert tasks.queued_at(stamped) == pytest.approx(made, abs=0.001)
    assert stamped != tasks.stamped_id(made)  # random below the milliseconds
    assert tasks.queued_at("6f1c8a52-3c1e-4b6f-9d2a-0e1f2a3b4c5d") is None
    assert tasks.queued_at("not-a-uuid") is None


REDIS_URL = os.environ.get("ZBOR_TEST_REDIS_URL")


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def queue(request, tmp_path):
    """An empty huey queue of either broker (Redis: a name of its own, emptied afterwards)."""
    from huey import RedisHuey, SqliteHuey

    if request.param == "sqlite":
        yield SqliteHuey("zbor-metrics-test", filename=str(tmp_path / "tasks.sqlite3"))
        return
    if not REDIS_URL:
        pytest.skip("set ZBOR_TEST_REDIS_URL to a Redis server to run this test")
    redis_queue = RedisHuey(f"zbor-metrics-test-{os.getpid()}", url=REDIS_URL)
    redis_queue.flush()
    yield redis_queue
    redis_queue.flush()


def test_queue_depth_and_the_age_of_the_oldest_task_the_site_queued(queue, settings):

    @queue.task()
    def work(n):
        return n

    settings.HUEY = {**settings.HUEY, "immediate": False}
    now = time.time()
    utc_now = datetime.fromtimestamp(now, UTC).replace(tzinfo=None)  # huey's utc=True: naive UTC
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tasks, "HUEY", queue)
        assert _queue_facts(now) == {"queued": 0, "scheduled": 0, "age": 0}
        queue.enqueue(work.s(1))  # huey's random id, as a periodic task has: no age
        queue.enqueue(work.s(2, id=tasks.stamped_id(now - 300)))
        queue.enqueue(work.s(3, id=tasks.stamped_id(now - 10)))
        # A retry back in the queue: queued long ago, but waiting only since its time came.
        queue.enqueue(work.s(4, id=tasks.stamped_id(now - 900), eta=utc_now - timedelta(seconds=60)))
        # A retry still waiting for its time: scheduled, not queued.
        queue.add_schedule(work.s(5, id=tasks.stamped_id(now - 900), eta=utc_now + timedelta(hours=1)))
        assert _queue_facts(now) == {"queued": 4, "scheduled": 1, "age": pytest.approx(300, abs=0.01)}


def test_in_immediate_mode_there_is_no_queue_to_measure(settings):
    settings.HUEY = {**settings.HUEY, "immediate": True}
    assert list(tasks.queue_metrics()) == []


def _queue_facts(now: float) -> dict:
    gauges = {g.name: g.samples for g in tasks.queue_metrics(now)}
    states = gauges["zbor_task_queue_tasks"]
    return {
        "queued": states[("queued",)],
        "scheduled": states[("scheduled",)],
        "age": gauges["zbor_task_queue_oldest_age_seconds"][()],
    }


@pytest.mark.django_db
def test_a_task_queued_after_a_commit_carries_a_stamped_id(settings, django_capture_on_commit_callbacks):
    from huey import signals
    from huey.contrib.djhuey import HUEY

    from zbor.donations.tasks import send_receipt

    seen = []

    @HUEY.signal(signals.SIGNAL_ENQUEUED)
    def remember(signal, task):
        seen.append(task.id)

    try:
        with django_capture_on_commit_callbacks(execute=True):
            tasks.enqueue_on_commit(send_receipt, 0)
    finally:
        HUEY.disconnect_signal(remember, signals.SIGNAL_ENQUEUED)
    assert len(seen) == 1 and tasks.queued_at(seen[0]) == pytest.approx(time.time(), abs=60)
