"""The task queue's broker is down: giving still works, and the receipt goes out once it is back.

The tests run huey in immediate mode (a task runs at once, in the test). Here its broker is a
Redis on a port where nothing listens, as in production when Redis is down: queueing fails the
way it fails then. A donor gives by the demo checkout and a bank pledge is matched by finance:
both succeed and nothing is queued. When the broker is back, the sweep the worker runs every
five minutes sends each receipt once; the task that was meant to send it (a retry, a second
worker) sends nothing more, because a receipt is claimed before it is sent.
"""

from __future__ import annotations

import io
import logging
import smtplib
import socket
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone
from huey.contrib.djhuey import HUEY
from huey.storage import RedisStorage

from tests import factories
from tests.helpers import DEMO
from tests.test_privacy import import_statement
from zbor.donations import receipts
from zbor.donations.models import Donation, DonationStatus
from zbor.donations.tasks import send_receipt, send_unsent_receipts
from zbor.payments import bank

pytestmark = pytest.mark.django_db
DONATE = f"/en/campaigns/{DEMO}/donate/"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def broker_down(monkeypatch):
    """Huey queueing to a Redis that cannot be reached, as production does with Redis down.
    Undone at the end of the test: the broker is back (tasks run at once again)."""
    monkeypatch.setattr(HUEY, "immediate_use_memory", False)
    monkeypatch.setattr(HUEY, "immediate", False)
    monkeypatch.setattr(HUEY, "storage", RedisStorage(HUEY.name, url=f"redis://127.0.0.1:{closed_port()}/0"))
    return monkeypatch


def broker_back(monkeypatch) -> None:
    monkeypatch.undo()


def give_by_demo_card(client, captured_commits, *, email: str, amount: str) -> Donation:
    with captured_commits(execute=True):
        started = client.post(
            DONATE,
            {
                "amount": amount,
                "method": "demo",
                "email": email,
                "idempotency_key": uuid.uuid4().hex,
                "challenge": factories.solved_challenge(),
            },
        )
        assert started.status_code == 302, started.content.decode()[:2000]
        done = client.post(started["Location"], {"outcome": "complete"})
    assert done.status_code == 302
    thanks = client.get(done["Location"])
    assert thanks.status_code == 200 and "Thank you" in thanks.content.decode()
    return Donation.objects.get(provider="demo", checkout_reference=started["Location"].rstrip("/").rsplit("/", 1)[1])


def queue_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "zbor.tasks" and r.levelno >= logging.WARNING]


def test_a_donation_made_while_the_broker_is_down_succeeds_and_its_receipt_goes_out_once_it_is_back(
    client, demo, broker_down, caplog, django_capture_on_commit_callbacks
):
    first = give_by_demo_card(client, django_capture_on_commit_callbacks, email="first@example.org", amount="21")
    second = give_by_demo_card(client, django_capture_on_commit_callbacks, email="second@example.org", amount="22")
    assert first.status == second.status == DonationStatus.SUCCEEDED
    assert mail.outbox == [] and first.receipt_sent_at is None
    # One warning for the outage, naming the task, not its arguments nor the broker's address.
    [warning] = queue_warnings(caplog)
    assert "zbor.donations.tasks.send_receipt" in warning and "ConnectionError" in warning
    assert str(first.pk) not in warning and "127.0.0.1" not in warning

    broker_back(broker_down)
    send_unsent_receipts.call_local()  # the worker's sweep, every five minutes
    assert sorted(m.to[0] for m in mail.outbox) == ["first@example.org", "second@example.org"]
    # The task queued late, a retry, a second sweep: none sends a receipt again.
    send_receipt(first.pk)
    send_unsent_receipts.call_local()
    receipts.send_receipt(second.pk)
    assert len(mail.outbox) == 2
    assert all(d.receipt_sent_at is not None for d in Donation.objects.filter(pk__in=[first.pk, second.pk]))


def test_finance_matches_a_bank_transfer_while_the_broker_is_down(
    client, demo, broker_down, django_capture_on_commit_callbacks
):
    started = client.post(
        DONATE, {"amount": "40", "method": "bank", "email": "pledge@example.org", "idempotency_key": uuid.uuid4().hex}
    )
    assert started.status_code == 302
    pledge = Donation.objects.get(provider="bank", email="pledge@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        imported = import_statement(factories.role_user("finance"), bank.format_reference(pledge.checkout_reference))
    assert imported.status_code == 200 and "1 matched to donations" in imported.content.decode()
    pledge.refresh_from_db()
    assert pledge.status == DonationStatus.SUCCEEDED and mail.outbox == []
    broker_back(broker_down)
    send_unsent_receipts.call_local()
    assert [m.to for m in mail.outbox] == [["pledge@example.org"]]


def succeeded(email: str, **fields) -> Donation:
    campaign = factories.campaign()
    return Donation.objects.create(
        campaign=campaign,
        amount=1000,
        currency="EUR",
        provider="demo",
        idempotency_key=uuid.uuid4().hex,
        status=DonationStatus.SUCCEEDED,
        succeeded_at=timezone.now(),
        email=email,
        **fields,
    )


def test_a_receipt_held_by_another_sender_is_not_sent_until_its_claim_runs_out():
    donation = succeeded("held@example.org", receipt_claimed_until=timezone.now() + receipts.CLAIM)
    receipts.send_receipt(donation.pk)
    assert receipts.send_unsent_receipts().sent == 0 and mail.outbox == []
    # The sender that held it died without sending: once its claim ran out, the sweep sends it.
    Donation.objects.filter(pk=donation.pk).update(receipt_claimed_until=timezone.now() - timedelta(seconds=1))
    assert receipts.send_unsent_receipts().sent == 1 and len(mail.outbox) == 1
    donation.refresh_from_db()
    assert donation.receipt_sent_at is not None and donation.receipt_claimed_until is None


def test_a_failed_send_gives_its_claim_back_and_the_sweep_stops_only_for_a_server_that_is_down(monkeypatch):
    from django.core.mail.backends import locmem

    refused, down, fine = (
        succeeded("refused@example.org"),
        succeeded("down@example.org"),
        succeeded("fine@example.org"),
    )
    Donation.objects.filter(pk=refused.pk).update(succeeded_at=timezone.now() - timedelta(minutes=3))
    Donation.objects.filter(pk=down.pk).update(succeeded_at=timezone.now() - timedelta(minutes=2))
    real = locmem.EmailBackend.send_messages

    def mail_server(self, messages):
        to = messages[0].to[0]
        if to == "refused@example.org":
            raise smtplib.SMTPRecipientsRefused({to: (550, b"no such user")})
        if to == "down@example.org":
            raise ConnectionRefusedError("mail server down")
        return real(self, messages)

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", mail_server)
    result = receipts.send_unsent_receipts()
    # The refused address did not hold up the next one; the server being down stopped the sweep.
    assert (result.sent, result.failed, result.stopped) == (0, 2, True) and mail.outbox == []
    assert not Donation.objects.filter(receipt_claimed_until__isnull=False).exists()  # every claim given back
    fine.refresh_from_db()
    assert fine.receipt_sent_at is None  # not tried: the next sweep does
    monkeypatch.undo()
    assert receipts.send_unsent_receipts().sent == 3 and len(mail.outbox) == 3


def test_the_command_sends_due_receipts_and_says_when_the_mail_server_is_down(monkeypatch):
    from django.core.mail.backends import locmem

    succeeded("command@example.org")
    monkeypatch.setattr(
        locmem.EmailBackend, "send_messages", lambda self, messages: (_ for _ in ()).throw(TimeoutError())
    )
    with pytest.raises(CommandError, match="mail server cannot be reached"):
        call_command("send_unsent_receipts", stdout=io.StringIO())
    monkeypatch.undo()
    out = io.StringIO()
    call_command("send_unsent_receipts", stdout=out)
    assert "Sent 1 receipt(s); 0 failed." in out.getvalue() and len(mail.outbox) == 1
    with pytest.raises(CommandError, match="at least 1"):
        call_command("send_unsent_receipts", "--batch", "0")
