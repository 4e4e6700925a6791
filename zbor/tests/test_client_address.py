"""Who counts as one client for the per-client limits (zbor/ratelimit.py): an IPv6 client by
its /64, and behind a proxy the address the trusted proxy saw, never one a client wrote."""

import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests import factories
from zbor import ratelimit
from zbor.accounts.models import RateCounter

pytestmark = pytest.mark.django_db
DONATE = "/en/campaigns/from-prison-to-family/donate/"
PROXY = "10.0.0.5"


def pledge():
    return {"amount": "25", "method": "bank", "idempotency_key": uuid.uuid4().hex}


def card():
    return {
        "amount": "25",
        "method": "demo",
        "idempotency_key": uuid.uuid4().hex,
        "challenge": factories.solved_challenge(),
    }


class Request:
    def __init__(self, remote="", **meta):
        self.META = {"REMOTE_ADDR": remote, **meta}


def test_25_pledges_from_25_addresses_of_one_ipv6_64_are_limited(client, demo, settings):
    settings.ZBOR_PLEDGES_PER_CLIENT_HOUR = 20
    codes = [
        client.post(DONATE, pledge(), REMOTE_ADDR=f"2001:db8:1:2:{n:x}::{n + 1:x}").status_code for n in range(25)
    ]
    assert codes == [302] * 20 + [429] * 5
    # The neighbouring /64 is another subscriber.
    assert client.post(DONATE, pledge(), REMOTE_ADDR="2001:db8:1:3::1").status_code == 302


def test_ipv4_is_counted_by_address_and_mapped_ipv6_as_ipv4():
    assert ratelimit.client_network("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::/64"
    assert ratelimit.client_network("2001:DB8:1:2::9") == "2001:db8:1:2::/64"
    assert ratelimit.client_network("::ffff:203.0.113.9") == "203.0.113.9"
    assert ratelimit.client_network("203.0.113.9") != ratelimit.client_network("203.0.113.10")
    same = [ratelimit.client_hash(Request(f"2001:db8::{n}")) for n in range(1, 5)]
    assert len(set(same)) == 1


def test_a_forged_forwarded_header_cannot_rotate_the_client(client, demo, settings):
    """Straight to the app port, a botnet writes a new X-Forwarded-For each time: the header is
    not read at all (the connection is not from a trusted proxy)."""
    settings.ZBOR_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.ZBOR_PLEDGES_PER_CLIENT_HOUR = 3
    codes = [
        client.post(DONATE, pledge(), REMOTE_ADDR="203.0.113.50", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(5)
    ]
    assert codes == [302, 302, 302, 429, 429]


def test_through_the_proxy_only_the_address_it_added_counts(client, demo, settings):
    """nginx appends (or writes) the address it saw: whatever the client put left of it is
    never read, so one client through the proxy stays one client."""
    settings.ZBOR_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.ZBOR_TRUSTED_PROXIES = ["10.0.0.0/24"]
    settings.ZBOR_PLEDGES_PER_CLIENT_HOUR = 3
    codes = [
        client.post(
            DONATE, pledge(), REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.50"
        ).status_code
        for n in range(5)
    ]
    assert codes == [302, 302, 302, 429, 429]
    # Another client through the same proxy has its own count.
    assert client.post(DONATE, pledge(), REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.51").status_code == 302


def test_the_walk_from_the_right_skips_trusted_proxies_only():
    trusted = ratelimit._networks(("10.0.0.0/8", "::1/128", "127.0.0.0/8"))
    walk = ratelimit.forwarded_client
    assert walk("10.0.0.5", "1.1.1.1, 203.0.113.5, 10.0.0.7", trusted) == "203.0.113.5"
    assert walk("203.0.113.99", "1.1.1.1", trusted) == "203.0.113.99"  # not from a proxy: header ignored
    assert walk("10.0.0.5", "", trusted) == "10.0.0.5"
    assert walk("10.0.0.5", "10.0.0.9, 10.0.0.8", trusted) == "10.0.0.9"  # all trusted: the left-most
    assert walk("10.0.0.5", "1.1.1.1, not-an-address", trusted) == "10.0.0.5"  # garbage stops the walk
    assert walk("10.0.0.5", "[2001:db8::1]:443", trusted) == "2001:db8::1"
    assert walk("::1", "203.0.113.5:8080", trusted) == "203.0.113.5"
    assert walk("", "203.0.113.5", trusted) == "203.0.113.5"  # a Unix socket: the proxy on this machine
    assert walk("garbage", "203.0.113.5", trusted) == "garbage"


def test_the_default_trusts_only_loopback(settings):
    settings.ZBOR_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    assert ratelimit.client_address(Request("127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")) == "203.0.113.5"
    assert ratelimit.client_address(Request("10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.5")) == "10.0.0.5"
    settings.ZBOR_CLIENT_IP_HEADER = ""
    assert ratelimit.client_address(Request("127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")) == "127.0.0.1"


def test_a_bad_trusted_proxy_setting_is_a_clear_configuration_error(settings):
    settings.ZBOR_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.ZBOR_TRUSTED_PROXIES = ["10.0.0.0/33"]
    with pytest.raises(ImproperlyConfigured, match="ZBOR_TRUSTED_PROXIES"):
        ratelimit.client_address(Request("10.0.0.5"))


def test_the_staff_sign_in_throttle_counts_the_same_client(client, settings):
    """Forged headers and a fresh IPv6 address per attempt do not reset the sign-in throttle."""
    settings.ZBOR_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.ZBOR_LOGIN_FAILURES_ALLOWED = 2
    settings.REDIS_URL = ""  # the database's counters, read below (with Redis they are in the cache)
    factories.staff_user("someone")
    for n in range(3):
        client.post(
            "/backoffice/login/",
            {"username": "someone", "password": "wrong"},
            REMOTE_ADDR=f"2001:db8:9:9::{n + 1}",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        )
    # One client: one counter for this username from it, one for it (the third try was refused uncounted).
    assert sorted(RateCounter.objects.values_list("count", flat=True)) == [2, 2]
    refused = client.post(
        "/backoffice/login/",
        {"username": "someone", "password": "wrong"},
        REMOTE_ADDR="2001:db8:9:9::77",
        HTTP_X_FORWARDED_FOR="192.0.2.200",
    )
    assert "Too many failed sign-ins" in refused.content.decode()
