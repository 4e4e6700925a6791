"""Thin tasks: they take an id and call the service; safe to run twice."""

from django_tasks import task
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

import zbor.tasks  # noqa: F401  (registers the huey task that runs django-tasks' tasks)

from . import receipts, services


@task()
def send_receipt(donation_id: int) -> None:
    receipts.send_receipt(donation_id)


@db_periodic_task(crontab(hour="3", minute="17"), name="zbor.forget_donor_emails")
def forget_donor_emails() -> None:
    """Daily: queue receipts left unsent; forget receipt emails past their days, emails of
    donations that never completed, and unpaid bank pledges."""
    for donation_id in receipts.unsent_receipts():
        send_receipt.enqueue(donation_id)
    receipts.forget_receipt_emails()
    services.purge_expired_emails()


@db_periodic_task(crontab(minute="*"), name="zbor.book_stranded_confirmations")
def book_stranded_confirmations() -> None:
    """Every minute: book confirmations whose request died before its turn (the process was
    killed between queueing and booking). Normally the provider's next delivery does it."""
    services.book_stranded_confirmations()
