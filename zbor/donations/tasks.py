"""Thin tasks: they take an id and call the service; safe to run twice."""

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from zbor.db import erase_residue
from zbor.tasks import task

from . import annual_summary, bank_instructions, credit_notes, monthly_links, receipts, services, stranded

log = logging.getLogger(__name__)


@task
def send_receipt(donation_id: int) -> None:
    receipts.send_receipt(donation_id)


@task
def send_credit_note(note_id: int) -> None:
    credit_notes.send_credit_note(note_id)


@task
def send_annual_summary(gift_id: int, year: int) -> None:
    annual_summary.send_annual_summary(gift_id, year)


@task
def send_bank_instructions(donation_id: int) -> None:
    bank_instructions.send_instructions(donation_id)


@task
def send_monthly_link(digest: str, language: str, link_template: str) -> None:
    """The link to manage an address's monthly gifts, if it has any (zbor/donations/monthly_links.py).
    Queued with the address's keyed hash only; nothing to sweep: a donor asks again."""
    monthly_links.send_manage_link(digest, language, link_template)


@db_periodic_task(crontab(minute="*/5"), name="zbor.send_unsent_receipts")
def send_unsent_receipts() -> None:
    """Every five minutes: send the receipts, a bank pledge's transfer details and the credit
    notes that the queue never sent (its broker was down when the donation committed, or every
    retry failed). Claimed one by one: never sent twice. Credit notes go after the receipts
    they correct."""
    if not receipts.send_unsent_receipts().stopped:
        credit_notes.send_unsent_credit_notes()
    bank_instructions.send_unsent_instructions()


@db_periodic_task(crontab(hour="3", minute="17"), name="zbor.forget_donor_emails")
def forget_donor_emails() -> None:
    """Daily: forget receipt emails past their days, emails of donations that never completed,
    and unpaid bank pledges; then clear the old values from the database's WAL."""
    receipts.forget_receipt_emails()
    services.purge_expired_emails()
    if not erase_residue():
        log.warning("the database's WAL could not be truncated (readers held it); tomorrow's run tries again")


@db_periodic_task(crontab(minute="*"), name="zbor.book_stranded_confirmations")
def book_stranded_confirmations() -> None:
    """Every minute: book confirmations whose request died before its turn (the process was
    killed between queueing and booking). Normally the provider's next delivery does it."""
    services.book_stranded_confirmations()


@db_periodic_task(crontab(minute="*"), name="zbor.finish_stranded_events")
def finish_stranded_events() -> None:
    """Every minute: handle again the provider events stored but never handled (the process
    was killed in between) or whose handling failed, once ZBOR_STRANDED_EVENT_SECONDS old;
    with a growing delay, then marked as needing attention. Claimed one by one: never twice."""
    stranded.finish_stranded_events()


@db_periodic_task(crontab(hour="3", minute="29"), name="zbor.lapse_standing_orders")
def lapse_standing_orders() -> None:
    """Daily: list for finance as lapsed the bank standing orders whose two expected months
    both passed without a transfer (``services.standing_orders``). Nobody is written to."""
    services.lapse_standing_orders()
