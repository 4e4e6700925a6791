"""Periodic house-keeping of casework unlocks (imported by CasesConfig.ready: huey finds
only modules named tasks on its own)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import keys


@db_periodic_task(crontab(minute="*/10"), name="zbor.cases.forget_expired_unlocks")
def forget_expired_unlocks() -> None:
    """Every ten minutes: delete the server half of unlocks that expired (a browser closed
    without signing out leaves its row until then; without the cookie it opens nothing)."""
    keys.forget_expired_unlocks()
