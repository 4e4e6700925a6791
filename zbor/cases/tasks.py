"""Periodic house-keeping of casework."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from zbor.db import erase_residue

from . import retention

log = logging.getLogger(__name__)


@db_periodic_task(crontab(hour="3", minute="41"), name="zbor.purge_old_cases")
def purge_old_cases() -> None:
    """Daily: purge declined, withdrawn and closed cases past ZBOR_CASE_RETENTION_DAYS, then
    clear the old values from the database's WAL."""
    retention.purge_old_cases()
    if not erase_residue():  # also after a purge from a case page that could not clear it
        log.warning("the database's WAL could not be truncated (readers held it); tomorrow's run tries again")
