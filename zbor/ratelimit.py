"""Rate limits for the public site: fixed windows counted per client and per campaign.

The client is never stored as it is: ``client_hash(request)`` is a SHA-256 of the address
salted with the secret key and the day (an IPv6 client counted by its /64; behind a trusted
proxy, the address that proxy saw: ``client_address``), so the counters (and a seized
database) cannot be turned back into addresses, and one day's hashes cannot be linked to the
next day's.

Counters live where every app server sees them: with ``REDIS_URL`` in Redis (through the
cache: ``add`` then ``incr``, both atomic there), otherwise in the database table
``zbor_rate_counter`` (one upsert per hit; a task deletes ended windows every ten minutes). Local-memory caches are never used for this: each
process would count alone. While Redis cannot be reached the database counts (zbor/cache.py):
a window that spans the outage's start or end is counted in two places, so a client may get up
to twice its limit once, and giving never fails because Redis is down.

    hit(rule, subject)             -> Verdict(allowed, retry_after)
    reached(rule, subject)         -> bool: the window's count is at the limit already (no hit)
    first_use(name, token, seconds) -> bool: a token (a solved challenge) is accepted once

Failed staff sign-ins are counted here too (zbor/accounts/login.py). The counter table belongs to
the accounts app's migrations (``RateCounter``); this module reaches it only through SQL, so it
imports no app (.importlinter).
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils import timezone

from zbor.cache import shared_count

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

UPSERT = (
    "INSERT INTO zbor_rate_counter (key, count, expires_at) VALUES (%s, 1, %s) "
    "ON CONFLICT (key) DO UPDATE SET count = zbor_rate_counter.count + 1 RETURNING count"
)


@dataclass(frozen=True)
class Rule:
    name: str
    limit: int
    seconds: int


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    #: Seconds until the window ends (for a Retry-After header).
    retry_after: int


def salted_hash(kind: str, value: str) -> str:
    """A SHA-256 salted with the secret key and today's date: useless to anyone with only the database."""
    salt = f"{settings.SECRET_KEY}:{timezone.now().date().isoformat()}:{kind}"
    return hashlib.sha256(f"{salt}:{value}".encode()).hexdigest()


def client_address(request) -> str:
    """The address of the client, as far as this server can tell: REMOTE_ADDR, or, when that is
    one of ZBOR_TRUSTED_PROXIES and ZBOR_CLIENT_IP_HEADER is set, the right-most address in that
    header that is not a trusted proxy (``forwarded_client``). Only ever hashed, never stored or
    logged."""
    if request is None:
        return ""
    remote = request.META.get("REMOTE_ADDR", "")
    header = settings.ZBOR_CLIENT_IP_HEADER
    if not header:
        return remote
    return forwarded_client(remote, request.META.get(header, ""), trusted_proxies())


def forwarded_client(remote: str, forwarded: str, trusted: tuple[IPNetwork, ...]) -> str:
    """The client a chain of proxies reports, trusting only the proxies in ``trusted``.

    As nginx's realip module (``real_ip_recursive on``) does: the header counts only when the
    connection comes from a trusted proxy; then its entries are read from the right (the one
    the proxy itself added) and the first that is not a trusted proxy is the client. Whatever a
    client writes into the header stands to the left of that entry and is never read, so a
    forged header cannot make one client look like many. A request reaching the app without a
    trusted proxy is counted by its own address. An entry that is not an address stops the walk
    at the last trusted hop (a misconfigured proxy then counts as one client, never as many).
    """
    here = parse_address(remote)
    if remote == "":
        here = None  # a Unix socket: only a process on this machine (the proxy) can connect
    elif here is None or not _trusted(here, trusted):
        return remote
    client = remote
    for entry in reversed([e.strip() for e in forwarded.split(",") if e.strip()]):
        address = parse_address(entry)
        if address is None:
            return client
        client = str(address)
        if not _trusted(address, trusted):
            return client
    return client


def parse_address(text: str) -> IPAddress | None:
    """An IP address from ``text`` ("203.0.113.7", "2001:db8::1", "[2001:db8::1]:443",
    "203.0.113.7:443"), IPv4-mapped IPv6 as IPv4; None when it is not one."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_network(address: str) -> str:
    """What limits count as one client: an IPv4 address, or the /64 of an IPv6 address.

    One IPv6 subscriber line gets at least a /64 (usually a /56 or /48), and a host picks any of
    its 2**64 addresses at will: counted by address, one machine could start a card payment
    from a new address each time. A /64 is the smallest block one user cannot leave
    (docs/decisions/0004-abuse-controls.md)."""
    parsed = parse_address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed) if parsed is not None else address


def trusted_proxies() -> tuple[IPNetwork, ...]:
    return _networks(tuple(settings.ZBOR_TRUSTED_PROXIES))


@functools.lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    try:
        return tuple(ipaddress.ip_network(c.strip(), strict=False) for c in cidrs if c.strip())
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"ZBOR_TRUSTED_PROXIES: {exc} (give addresses or CIDR blocks, comma-separated)"
        ) from exc


def _trusted(address: IPAddress, trusted: tuple[IPNetwork, ...]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def client_hash(request) -> str:
    """The salted hash of the client's network (``client_network``): the subject of every
    per-client limit, the donate form's and the staff sign-in's alike."""
    return salted_hash("client", client_network(client_address(request)))


def hit(rule: Rule, subject: str) -> Verdict:
    """Count one hit of ``subject`` (a client hash, a campaign id) against ``rule``."""
    if rule.limit <= 0:
        return Verdict(True, 0)
    now = timezone.now().timestamp()
    window = int(now // rule.seconds)
    seconds_left = (window + 1) * rule.seconds - now
    count = _count(f"{rule.name}:{window}:{subject}", seconds_left)
    return Verdict(count <= rule.limit, max(1, int(seconds_left)))


def reached(rule: Rule, subject: str) -> bool:
    """True when ``subject`` has used up ``rule`` in the current window, without counting a hit:
    for limits counted on failure only (a wrong password), checked before each attempt."""
    window = int(timezone.now().timestamp() // rule.seconds)
    return _peek(f"{rule.name}:{window}:{subject}") >= rule.limit


def first_use(name: str, token: str, seconds: int) -> bool:
    """True the first time ``token`` is seen in the next ``seconds``, False after."""
    return _count(f"{name}:once:{token}", seconds) == 1


def _count(subject: str, seconds_left: float) -> int:
    key = hashlib.sha256(subject.encode()).hexdigest()
    if _uses_cache():
        count = shared_count(f"ratelimit:{key}", timeout=int(seconds_left) + 1)
        if count is not None:
            return count
    return _count_in_database(key, seconds_left)


def _peek(subject: str) -> int:
    key = hashlib.sha256(subject.encode()).hexdigest()
    count = 0
    if _uses_cache():
        # During a Redis outage hits are counted in the database: read both, keep the larger.
        count = int(cache.get(f"ratelimit:{key}") or 0)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count FROM zbor_rate_counter WHERE key = %s AND expires_at > %s",
            [key, connection.ops.adapt_datetimefield_value(timezone.now())],
        )
        row = cursor.fetchone()
    return max(count, row[0] if row else 0)


def _uses_cache() -> bool:
    return bool(getattr(settings, "REDIS_URL", ""))


def _count_in_database(key: str, seconds_left: float) -> int:
    expires_at = timezone.now() + timedelta(seconds=seconds_left + 1)
    # One statement, atomic by itself: no transaction (or savepoint) around it.
    with connection.cursor() as cursor:
        cursor.execute(UPSERT, [key, connection.ops.adapt_datetimefield_value(expires_at)])
        (count,) = cursor.fetchone()
    return count


def forget_expired() -> int:
    """Delete the database counters whose window is over (a periodic task: zbor/accounts/tasks.py)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM zbor_rate_counter WHERE expires_at < %s",
            [connection.ops.adapt_datetimefield_value(timezone.now())],
        )
        return cursor.rowcount
