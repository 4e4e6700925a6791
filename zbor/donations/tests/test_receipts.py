"""Receipts an accountant accepts: the foundation's legal details, and a number in an unbroken
sequence per year, given once, even when several workers issue receipts at the same moment."""

from __future__ import annotations

import io
import threading
from datetime import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connections

from tests import factories
from tests.postgres import run_here_or_on_postgres
from zbor.donations.models import Donation, ReceiptCounter
from zbor.donations.receipts import issue_receipt, receipt_pdf, send_receipt
from zbor.donations.services import record_demo_donation

pytestmark = pytest.mark.django_db

LEGAL = {
    "ZBOR_FOUNDATION_LEGAL_NAME": "Fundacja Zbor sp. z o.o.",
    "ZBOR_FOUNDATION_ADDRESS": "ul. Prosta 1\n00-001 Warszawa",
    "ZBOR_FOUNDATION_REGISTRATION": "KRS 0000123456",
    "ZBOR_FOUNDATION_TAX_STATEMENTS": {
        "default": "Donations may be deductible where you pay tax.",
        "pl": "Darowizna może zostać odliczona od dochodu (art. 26 ustawy o PIT).",
    },
}


def gift(campaign, *, amount=2500, email="donor@example.org", language="en") -> Donation:
    donation = record_demo_donation(campaign, amount=amount)
    Donation.objects.filter(pk=donation.pk).update(email=email, language=language)
    donation.refresh_from_db()
    return donation


def at(year, month, day, hour=12):
    return mock.patch(
        "django.utils.timezone.now", return_value=datetime(year, month, day, hour, tzinfo=ZoneInfo("UTC"))
    )


def pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


def test_a_receipt_names_the_foundation_its_registration_and_tax_statement(campaign, settings):
    """The email and its PDF carry the legal name, address, registration number, the tax
    statement in the donor's language and a receipt number of the year it was issued."""
    for name, value in LEGAL.items():
        setattr(settings, name, value)
    donation = gift(campaign, amount=3100, language="pl")
    with at(2026, 3, 5):
        send_receipt(donation.pk)
    [message] = mail.outbox
    donation.refresh_from_db()
    assert donation.receipt_number == "2026-000001"
    assert "2026-000001" in message.body and "Fundacja Zbor sp. z o.o." in message.body
    [(name, pdf, _type)] = message.attachments
    assert name == "receipt-2026-000001.pdf"
    text = pdf_text(pdf)
    for expected in ("Fundacja Zbor sp. z o.o.", "ul. Prosta 1", "00-001 Warszawa", "KRS 0000123456", "2026-000001"):
        assert expected in text
    assert "art. 26 ustawy o PIT" in text and "deductible" not in text
    assert "Help to start again" not in text  # still no campaign on a receipt


def test_other_languages_get_the_default_tax_statement(campaign, settings):
    for name, value in LEGAL.items():
        setattr(settings, name, value)
    donation = issue_receipt(gift(campaign).pk)
    assert "Donations may be deductible where you pay tax." in pdf_text(receipt_pdf(donation))


def test_without_legal_settings_the_receipt_says_nothing_of_them(campaign, settings):
    """The defaults are empty: no registration line, no tax statement, the public name."""
    donation = issue_receipt(gift(campaign).pk)
    text = pdf_text(receipt_pdf(donation))
    assert settings.ZBOR_FOUNDATION_NAME in text
    assert "Registration" not in text and "deductible" not in text and "tax" not in text.lower()


def test_numbers_continue_across_donations_and_restart_on_the_first_of_january(campaign):
    first, second, third, fourth = (gift(campaign, amount=100 * i) for i in range(1, 5))
    with at(2026, 12, 31, 22):
        send_receipt(first.pk)
        send_receipt(second.pk)
    with at(2027, 1, 1, 0):
        send_receipt(third.pk)
        send_receipt(fourth.pk)
    numbers = [Donation.objects.get(pk=d.pk).receipt_number for d in (first, second, third, fourth)]
    assert numbers == ["2026-000001", "2026-000002", "2027-000001", "2027-000002"]
    assert {c.year: c.last for c in ReceiptCounter.objects.all()} == {2026: 2, 2027: 2}


def test_a_receipt_is_numbered_once(campaign):
    """Issuing again, or a second sender, never takes another number."""
    donation = gift(campaign)
    with at(2026, 5, 1):
        assert issue_receipt(donation.pk).receipt_number == "2026-000001"
    with at(2027, 5, 1):
        assert issue_receipt(donation.pk).receipt_number == "2026-000001"
    assert ReceiptCounter.objects.get(year=2026).last == 1 and not ReceiptCounter.objects.filter(year=2027).exists()


def test_a_donation_without_an_email_takes_no_number(campaign):
    """Only a receipt that is sent is numbered: the sequence has no numbers nobody received."""
    donation = record_demo_donation(campaign, amount=500)
    send_receipt(donation.pk)
    assert Donation.objects.get(pk=donation.pk).receipt_number is None and mail.outbox == []


def test_a_failed_sending_keeps_the_number_for_the_next_try(campaign, monkeypatch):
    from django.core.mail import EmailMessage

    from zbor.donations.receipts import ReceiptNotSent

    donation = gift(campaign)
    monkeypatch.setattr(EmailMessage, "send", mock.Mock(side_effect=ConnectionRefusedError))
    with at(2026, 2, 2), pytest.raises(ReceiptNotSent):
        send_receipt(donation.pk)
    monkeypatch.undo()
    with at(2026, 2, 2, 13):
        send_receipt(gift(campaign, amount=700).pk)
        send_receipt(donation.pk)
    assert Donation.objects.get(pk=donation.pk).receipt_number == "2026-000001"
    assert sorted(Donation.objects.exclude(receipt_number=None).values_list("receipt_number", flat=True)) == [
        "2026-000001",
        "2026-000002",
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_receipts_issued_at_once_by_many_workers_are_numbered_without_gaps_or_doubles():
    """Eight workers issue twenty-four receipts at once (each twice: a worker and its retry):
    the numbers are exactly 1 to 24, each used once."""
    if not run_here_or_on_postgres(
        f"{__file__}::test_receipts_issued_at_once_by_many_workers_are_numbered_without_gaps_or_doubles"
    ):
        return
    campaign = factories.campaign(needs=(10_000_000,))
    donations = [gift(campaign, amount=100 + i).pk for i in range(24)]
    workers, barrier, errors = 8, threading.Barrier(8), []

    def issue(share):
        try:
            barrier.wait()
            for donation_id in share:
                issue_receipt(donation_id)
        except Exception as exc:  # reported below: a thread's exception is otherwise lost
            errors.append(exc)
        finally:
            connections.close_all()

    shares = [donations[i::workers] + donations[(i + 1) % workers :: workers] for i in range(workers)]
    threads = [threading.Thread(target=issue, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(Donation.objects.filter(pk__in=donations).values_list("receipt_number", flat=True))
    year = numbers[0][:4]
    assert numbers == [f"{year}-{n:06d}" for n in range(1, 25)]
    assert ReceiptCounter.objects.get(year=int(year)).last == 24


# -- sending a receipt again ------------------------------------------------------------------

CHANGELIST = "/backoffice/donations/donation/"


def resend(client, user, donation):
    from django.contrib.admin import helpers

    client.force_login(user)
    return client.post(
        CHANGELIST, {"action": "resend_receipts", helpers.ACTION_CHECKBOX_NAME: [donation.pk]}, follow=True
    )


def test_finance_sends_a_receipt_again_with_its_number_and_it_is_audited(
    client, campaign, django_capture_on_commit_callbacks
):
    from zbor.accounts.models import AuditEvent

    donation = gift(campaign)
    send_receipt(donation.pk)
    finance = factories.role_user("finance", "fin")
    with django_capture_on_commit_callbacks(execute=True):
        page = resend(client, finance, donation).content.decode()
    assert "1 receipt will be sent again." in page
    first, again = mail.outbox
    assert again.to == ["donor@example.org"] and again.attachments[0][0] == first.attachments[0][0]
    assert ReceiptCounter.objects.get().last == 1
    assert AuditEvent.objects.filter(
        actor=finance, action="donation.receipt.resend", object_id=str(donation.pk)
    ).exists()
    assert Donation.objects.get(pk=donation.pk).receipt_sent_at is not None


def test_an_editor_cannot_send_a_receipt_again(client, campaign):
    from django.core.exceptions import PermissionDenied

    from zbor.donations.services import resend_receipt

    donation = gift(campaign)
    send_receipt(donation.pk)
    editor = factories.role_user("editor", "ed")
    with pytest.raises(PermissionDenied):
        resend_receipt(donation, by=editor)
    client.force_login(editor)
    assert client.post(CHANGELIST, {"action": "resend_receipts", "_selected_action": [donation.pk]}).status_code == 403
    assert len(mail.outbox) == 1


def test_a_forgotten_email_cannot_be_sent_a_receipt_again_and_finance_is_told_why(
    client, campaign, django_capture_on_commit_callbacks
):
    from zbor.donations.receipts import forget_receipt_emails

    donation = gift(campaign)
    send_receipt(donation.pk)
    with at(2099, 1, 1):
        forget_receipt_emails()
    with django_capture_on_commit_callbacks(execute=True):
        page = resend(client, factories.role_user("finance", "fin"), donation).content.decode()
    assert "was forgotten after the receipt was sent, by design" in page
    assert len(mail.outbox) == 1 and Donation.objects.get(pk=donation.pk).receipt_sent_at is not None


def test_a_bank_transfer_receipt_is_dated_the_day_the_bank_booked_it(client, campaign):
    """Booked by the bank on 2 March, imported on 5 March: the receipt says 2 March, as the
    accountant's export does."""
    from zbor.donations.tests.test_exports import bank_gift_pledged_in_january_booked_on_2_march

    client.force_login(factories.role_user("finance", "fin"))
    donation = bank_gift_pledged_in_january_booked_on_2_march(client, campaign)
    Donation.objects.filter(pk=donation.pk).update(email="donor@example.org")
    with at(2026, 3, 6):
        send_receipt(donation.pk)
    [message] = mail.outbox
    assert "on March 2, 2026." in message.body and "2026-000001" in message.body
    assert "Date March 2, 2026" in pdf_text(message.attachments[0][1])


@pytest.mark.parametrize(
    ("language", "label", "day"),
    [
        ("en", "Receipt number", "March 5, 2026"),
        ("ru", "Номер квитанции", "5 марта 2026"),
        ("be", "Нумар квітанцыі", "5 сакавіка 2026"),
        ("pl", "Numer potwierdzenia", "5 marca 2026"),
    ],
)
def test_the_email_and_the_pdf_name_the_receipt_number_and_the_date_alike(campaign, language, label, day):
    """The reviewer saw "Reference" and an ISO date in the email beside "Receipt number" and a
    written-out date in the PDF: both now say the same, in the donor's language."""
    with at(2026, 3, 5):
        send_receipt(gift(campaign, language=language).pk)
    [message] = mail.outbox
    assert f"{label}: 2026-000001" in message.body
    assert day in message.body and "2026-03-05" not in message.body
    # The PDF's text comes back with line breaks and kerning gaps of its own: compare without spaces.
    text = "".join(pdf_text(message.attachments[0][1]).split())
    assert f"{label}2026-000001".replace(" ", "") in text and day.replace(" ", "") in text
