"""Periodic house-keeping of the abuse defences."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from zbor import ratelimit


@db_periodic_task(crontab(minute="*/10"), name="zbor.forget_expired_rate_counters")
def forget_expired_rate_counters() -> None:
    """Every ten minutes: delete the rate-limit counters whose window is over (the embedded
    default keeps them in the database; Redis expires its own)."""
    ratelimit.forget_expired()
