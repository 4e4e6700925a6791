"""Rate limits for the public site: fixed windows counted per client and per campaign.

The client is never stored as it is: ``client_hash(request)`` is a SHA-256 of the address
salted with the secret key and the day, so the counters (and a seized database) cannot be
turned back into addresses, and one day's hashes cannot be linked to the next day's.

Counters live where every app server sees them: with ``REDIS_URL`` in Redis (through the
cache: ``add`` then ``incr``, both atomic there), otherwise in the database table
``zbor_rate_counter`` (one upsert per hit; a task deletes ended windows every ten minutes). Local-memory caches are never used for this: each
process would count alone. While Redis cannot be reached the database counts (zbor/cache.py):
a window that spans the outage's start or end is counted in two places, so a client may get up
to twice its limit once, and giving never fails because Redis is down.

    hit(rule, subject)             -> Verdict(allowed, retry_after)
    first_use(name, token, seconds) -> bool: a token (a solved challenge) is accepted once
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from zbor.cache import shared_count

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
    """The client's address: REMOTE_ADDR, or behind a proxy the first address of the header
    named by ZBOR_CLIENT_IP_HEADER. Only ever hashed, never stored or logged."""
    if request is None:
        return ""
    header = settings.ZBOR_CLIENT_IP_HEADER
    address = request.META.get(header, "").split(",")[0].strip() if header else ""
    return address or request.META.get("REMOTE_ADDR", "")


def client_hash(request) -> str:
    return salted_hash("client", client_address(request))


def hit(rule: Rule, subject: str) -> Verdict:
    """Count one hit of ``subject`` (a client hash, a campaign id) against ``rule``."""
    if rule.limit <= 0:
        return Verdict(True, 0)
    now = timezone.now().timestamp()
    window = int(now // rule.seconds)
    seconds_left = (window + 1) * rule.seconds - now
    count = _count(f"{rule.name}:{window}:{subject}", seconds_left)
    return Verdict(count <= rule.limit, max(1, int(seconds_left)))


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
    from zbor.accounts.models import RateCounter

    deleted, _ = RateCounter.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
