"""Redis is a cache and a counter, never a single point of failure for giving.

With ``REDIS_URL`` pointing at a port where nothing listens (no Redis server is needed), a
donor reads the campaign, opens the donate page and the share card, pledges a bank transfer,
pays by the demo checkout and by card through Stripe (a local fake of its API): everything
answers, the rate limits count in the database, and the log has ONE warning for the outage,
not one per request. When Redis answers again (a test with a real Redis, behind a proxy that
can be cut), the shared cache is used again and keys changed during the outage are not served
stale from Redis.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import socketserver
import threading
import uuid

import pytest
from django.core import mail
from django.core.cache import cache

from tests import factories
from tests.fake_stripe import stripe_enabled
from tests.helpers import DEMO
from zbor import cache as zbor_cache
from zbor.accounts.models import RateCounter
from zbor.donations.models import Donation, DonationStatus
from zbor.payments.tests.test_stripe import send, session_completed

pytestmark = pytest.mark.django_db
DONATE = f"/en/campaigns/{DEMO}/donate/"
WEBHOOK_SECRET = "whsec_redis_down"
REDIS_URL = os.environ.get("ZBOR_TEST_REDIS_URL")


def closed_port() -> int:
    """A port of this machine where nothing listens (the kernel gave it, then it was closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def use_redis_at(settings, url: str) -> None:
    """The settings production has with ``REDIS_URL=url`` (config/settings/base.py)."""
    settings.REDIS_URL = url
    settings.CACHES = {
        "default": {"BACKEND": "zbor.cache.ResilientRedisCache", "LOCATION": url, "KEY_PREFIX": "zbor-redis-down"}
    }


@pytest.fixture
def redis_down(settings):
    zbor_cache._OUTAGES.clear()  # each test sees its outage begin
    use_redis_at(settings, f"redis://127.0.0.1:{closed_port()}/0")
    yield
    zbor_cache._OUTAGES.clear()


def outage_warnings(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "zbor.cache" and r.levelno >= logging.WARNING]


def pledge(client, **extra):
    data = {"amount": "20", "method": "bank", "idempotency_key": uuid.uuid4().hex, **extra}
    return client.post(DONATE, data)


def test_the_whole_donate_flow_works_with_redis_down(
    client, demo, redis_down, settings, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.INFO)
    # The pages a donor reads on the way: the campaign, the list, the donate page, the share card.
    assert client.get(f"/en/campaigns/{DEMO}/").status_code == 200
    assert client.get("/en/campaigns/").status_code == 200
    donate_page = client.get(DONATE)
    assert donate_page.status_code == 200 and ">Donate</button>" in donate_page.content.decode()
    card = client.get(f"/en/campaigns/{DEMO}/card.png")
    assert card.status_code == 200 and card["Content-Type"] == "image/jpeg"  # drawn on the demo's cover
    assert client.get(f"/en/campaigns/{DEMO}/card.png").content == card.content  # from the local cache
    assert client.get("/api/v1/campaigns").status_code == 200

    # A bank pledge: the reference to write on the transfer.
    started = pledge(client)
    assert started.status_code == 302, started.content.decode()[:2000]
    assert re.search(r'<code class="reference">[A-Z0-9-]+</code>', client.get(started["Location"]).content.decode())

    # The demo card checkout, with the proof of work (accepted once: counted in the database)
    # and a receipt by email.
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            DONATE,
            {
                "amount": "25",
                "method": "demo",
                "idempotency_key": uuid.uuid4().hex,
                "email": "donor@example.org",
                "challenge": factories.solved_challenge(),
            },
        )
        assert started.status_code == 302, started.content.decode()[:2000]
        done = client.post(started["Location"], {"outcome": "complete"})
    assert "Thank you" in client.get(done["Location"]).content.decode()
    reference = started["Location"].rstrip("/").rsplit("/", 1)[1]
    assert Donation.objects.get(provider="demo", checkout_reference=reference).status == DonationStatus.SUCCEEDED
    assert len(mail.outbox) == 1

    # A card payment through Stripe (the real SDK against a local fake), confirmed by its webhook.
    with stripe_enabled(settings, WEBHOOK_SECRET):
        started = client.post(
            DONATE,
            {
                "amount": "30",
                "method": "stripe",
                "idempotency_key": uuid.uuid4().hex,
                "challenge": factories.solved_challenge(),
            },
        )
        assert started.status_code == 302 and started["Location"].startswith("https://checkout.stripe.test/")
        session = Donation.objects.get(provider="stripe", amount=3000).checkout_reference
        assert (
            send(
                client, "checkout.session.completed", session_completed(session, amount=3000), secret=WEBHOOK_SECRET
            ).status_code
            == 200
        )
    assert Donation.objects.get(provider="stripe", amount=3000).status == DonationStatus.SUCCEEDED

    # The limits were counted where every app server sees them: the database.
    assert RateCounter.objects.exists()
    # One warning for the outage, however many requests met it.
    [warning] = outage_warnings(caplog)
    assert "Redis cannot be reached" in warning.getMessage()
    assert "127.0.0.1" not in warning.getMessage()  # nothing of the URL (it may carry a password)


def test_rate_limits_still_hold_while_redis_is_down(client, demo, redis_down, settings):
    settings.ZBOR_PLEDGES_PER_CLIENT_HOUR = 2
    assert [pledge(client).status_code for _ in range(3)] == [302, 302, 429]
    assert RateCounter.objects.exists()


def test_a_solved_challenge_is_still_accepted_only_once(client, demo, redis_down):
    challenge = factories.solved_challenge()
    data = {"amount": "25", "method": "demo", "challenge": challenge}
    assert client.post(DONATE, {**data, "idempotency_key": uuid.uuid4().hex}).status_code == 302
    replayed = client.post(DONATE, {**data, "idempotency_key": uuid.uuid4().hex})
    assert replayed.status_code == 400


def test_the_cache_api_answers_from_memory_while_redis_is_down(redis_down, caplog):
    caplog.set_level(logging.INFO)
    assert cache.get("missing") is None
    cache.set("k", "v")
    assert cache.get("k") == "v" and cache.get_many(["k", "x"]) == {"k": "v"} and cache.has_key("k")
    assert cache.add("k", "other") is False and cache.get_or_set("n", 1) == 1 and cache.incr("n") == 2
    cache.set_many({"a": 1, "b": 2})
    cache.delete_many(["a"])
    assert cache.get_many(["a", "b"]) == {"b": 2}
    assert cache.touch("b", 60) and cache.delete("b") and cache.get("b") is None
    assert len(outage_warnings(caplog)) == 1


# --- Redis back after an outage (needs a real Redis) ------------------------------------------


class CuttableProxy:
    """A TCP proxy to Redis that can be cut (connections reset, new ones refused) and restored."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.port = closed_port()
        self.server: socketserver.ThreadingTCPServer | None = None
        self.sockets: list[socket.socket] = []

    def up(self) -> None:
        proxy = self

        class Pipe(socketserver.BaseRequestHandler):
            def handle(self):
                upstream = socket.create_connection(proxy.upstream)
                proxy.sockets += [self.request, upstream]

                def pump(source, target):
                    try:
                        while data := source.recv(65536):
                            target.sendall(data)
                    except OSError:
                        pass
                    finally:
                        for s in (source, target):
                            try:
                                s.shutdown(socket.SHUT_RDWR)
                            except OSError:
                                pass

                back = threading.Thread(target=pump, args=(upstream, self.request), daemon=True)
                back.start()
                pump(self.request, upstream)
                back.join()

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Pipe)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()
        for s in self.sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        self.sockets = []


@pytest.mark.redis
@pytest.mark.skipif(not REDIS_URL, reason="set ZBOR_TEST_REDIS_URL to a Redis server to run this test")
def test_when_redis_answers_again_the_shared_cache_is_used_and_outage_changes_win(settings, caplog, monkeypatch):
    from urllib.parse import urlsplit

    caplog.set_level(logging.INFO)
    upstream = urlsplit(REDIS_URL)
    proxy = CuttableProxy((upstream.hostname, upstream.port or 6379))
    proxy.up()
    zbor_cache._OUTAGES.clear()
    use_redis_at(settings, f"redis://127.0.0.1:{proxy.port}/13")
    settings.CACHES["default"]["KEY_PREFIX"] = f"zbor-outage-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(zbor_cache, "RETRY_SECONDS", 0)  # try Redis again at every call
    try:
        cache.set("translation", "before the outage")
        cache.set("card", "old card")
        proxy.down()
        cache.delete("translation")  # an editor changed it during the outage
        cache.set("card", "new card")
        assert cache.get("translation") is None and cache.get("card") == "new card"
        proxy.up()
        assert cache.get("translation") is None  # not the value Redis held from before
        assert cache.get("card") is None  # forgotten on both sides: drawn again on the next request
        cache.set("card", "shared again")
        assert cache.get("card") == "shared again"
        messages = [r.getMessage() for r in caplog.records if r.name == "zbor.cache"]
        assert len(messages) == 2 and "cannot be reached" in messages[0] and "answers again" in messages[1], messages
    finally:
        proxy.down()
        zbor_cache._OUTAGES.clear()
