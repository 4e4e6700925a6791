"""A bank donor can finish later: the status page after a pledge (EPC QR code for euro, the
details as plain text with copy buttons, print and download), and the same details by email,
sent once, neutral, the address then forgotten under the usual rules."""

import re
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone, translation
from django.utils.translation import gettext

from tests import factories
from tests.helpers import CAMPAIGN, text_of
from zbor.donations.models import Donation, DonationStatus
from zbor.payments.bank import format_reference
from zbor.payments.tests.test_epc import read_back

pytestmark = pytest.mark.django_db

NEEDED = "Write the payment reference in the transfer's description, and nothing else: without it we cannot match your gift."


def pledge(client, *, slug=CAMPAIGN, language="en", amount="25", email="", key=None):
    response = client.post(
        f"/{language}/campaigns/{slug}/donate/",
        {"amount": amount, "method": "bank", "email": email, "idempotency_key": key or uuid.uuid4().hex},
    )
    assert response.status_code == 302, text_of(response.content.decode())[:1500]
    return response["Location"]


def test_a_euro_pledge_shows_a_qr_code_that_fills_in_the_transfer(client, campaign):
    page = client.get(pledge(client, amount="25.50")).content.decode()
    donation = Donation.objects.get(provider="bank")
    reference = format_reference(donation.checkout_reference)
    [svg] = re.findall(r"<svg.*?</svg>", page, re.S)
    fields = read_back(svg).bytes.decode("utf-8").split("\n")
    assert fields == [
        "BCD",
        "002",
        "1",
        "SCT",
        "WBKPPLPP",
        "Zbor Foundation",
        "PL61109010140000071219812874",
        "EUR25.50",
        "",
        "",
        reference,
    ]
    assert "Help to start again" not in svg and CAMPAIGN not in "".join(fields)


def test_the_details_are_plain_text_without_javascript(client, campaign):
    page = client.get(pledge(client)).content.decode()
    reference = format_reference(Donation.objects.get(provider="bank").checkout_reference)
    words = text_of(page)
    for shown in ("PL61 1090 1014 0000 0712 1981 2874", "WBKPPLPP", "Zbor Foundation", "€25", reference, NEEDED):
        assert shown in words
    assert "Print or save these details:" in words and 'href="?download=1"' in page
    # The copy and print buttons need JavaScript: they are hidden until the script shows them,
    # and the script is the site's own file, not inline.
    buttons = re.findall(r"<button[^>]*>", page)
    assert buttons and all(" hidden" in b for b in buttons)
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/zbor/copy.js" defer>']


def test_a_pledge_in_another_currency_has_no_qr_code_but_every_detail(client):
    factories.campaign(slug="zloty", currency="PLN")
    page = client.get(pledge(client, slug="zloty", language="pl", amount="40")).content.decode()
    assert "<svg" not in page
    words = text_of(page)
    reference = format_reference(Donation.objects.get(provider="bank").checkout_reference)
    assert "PL61 1090 1014 0000 0712 1981 2874" in words and reference in words and "40\u00a0zł" in words


def test_the_details_download_as_text_without_the_campaign(client, campaign):
    status = pledge(client)
    response = client.get(status + "?download=1")
    reference = format_reference(Donation.objects.get(provider="bank").checkout_reference)
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="bank-transfer.txt"'
    text = response.content.decode()
    assert f"Payment reference: {reference}" in text and "IBAN: PL61 1090 1014 0000 0712 1981 2874" in text
    assert "Help to start again" not in text and CAMPAIGN not in text


@pytest.mark.parametrize("language", ["en", "ru", "be", "pl"])
def test_the_page_is_in_every_language(client, campaign, language):
    page = client.get(pledge(client, language=language)).content.decode()
    with translation.override(language):
        needed, keep = gettext(NEEDED), gettext("Print or save these details:")
        label = gettext("QR code for your banking app")
    if language != "en":
        assert needed != NEEDED
    words = text_of(page)
    assert needed in words and keep in words and label in page


def test_the_details_are_emailed_once_neutrally_and_the_address_is_forgotten(
    client, campaign, django_capture_on_commit_callbacks, settings
):
    from zbor.donations.services import purge_expired_emails
    from zbor.donations.tasks import send_unsent_receipts

    key = uuid.uuid4().hex
    with django_capture_on_commit_callbacks(execute=True):
        pledge(client, language="ru", amount="30", email="donor@example.org", key=key)
        pledge(client, language="ru", amount="30", email="donor@example.org", key=key)  # the form sent twice
    send_unsent_receipts.call_local()  # the sweep finds nothing left to send
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    donation = Donation.objects.get(provider="bank")
    assert message.to == ["donor@example.org"] and message.attachments == []
    assert message.subject == "Ваш банковский перевод — Zbor Foundation"
    for shown in (
        "PL61 1090 1014 0000 0712 1981 2874",
        "WBKPPLPP",
        "30\u00a0€",
        format_reference(donation.checkout_reference),
    ):
        assert shown in message.body
    with translation.override("ru"):
        assert gettext(NEEDED) in message.body
    text = message.subject + message.body
    assert "Help to start again" not in text and CAMPAIGN not in text and "/campaigns/" not in text
    assert donation.instructions_sent_at is not None and donation.email == "donor@example.org"
    # Kept no longer than any pledge's address: forgotten when the unpaid pledge expires.
    Donation.objects.filter(pk=donation.pk).update(
        created_at=timezone.now() - timedelta(days=settings.ZBOR_EMAIL_RETENTION_DAYS + 1)
    )
    purge_expired_emails()
    donation.refresh_from_db()
    assert donation.status == DonationStatus.EXPIRED and donation.email == ""


def test_a_pledge_without_an_email_sends_nothing(client, campaign, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        pledge(client)
    assert mail.outbox == []


def test_details_the_queue_never_sent_go_out_with_the_sweep_once(client, campaign):
    from zbor.donations.tasks import send_unsent_receipts

    pledge(client, email="late@example.org")  # on_commit never ran here: nothing was queued
    assert mail.outbox == []
    send_unsent_receipts.call_local()
    send_unsent_receipts.call_local()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["late@example.org"]


def test_details_that_fail_to_send_are_retried(client, campaign, django_capture_on_commit_callbacks, monkeypatch):
    from django.core.mail import EmailMessage

    real_send, attempts = EmailMessage.send, []

    def flaky(self, *args, **kwargs):
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionRefusedError("mail server down")
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr(EmailMessage, "send", flaky)
    with django_capture_on_commit_callbacks(execute=True):
        pledge(client, email="donor@example.org")
    assert len(attempts) == 3 and len(mail.outbox) == 1
