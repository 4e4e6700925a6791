"""Logs never carry personal data.

A donor with a distinctive email, public name, words of support and client address (REMOTE_ADDR
and X-Forwarded-For, IPv4 and IPv6) gives through the real pages: a card payment through the
demo checkout, whose receipt task runs, then a bank pledge that finance matches by importing a
statement naming the payer. An editor approves the words of support and writes a beneficiary's
private details and a document; finance pays out to a recipient with proof. Then what goes
wrong: a failed sign-in with the email as user name, a post without its CSRF token, a card
payment without the proof of work, a pledge over the hourly limit, a Stripe webhook with a bad
signature and a signed one that names the payer, a 404, and a mail server refusing the address.

Every record of every logger, at DEBUG, and everything written to stdout and stderr (file
descriptors 1 and 2) is searched for each personal value, in plain, URL- and JSON-escaped
forms. `test_the_checker_catches_a_leaking_log_call` shows the net has no hole: a DEBUG log
call, a print and a stderr write carrying personal data, and an exception naming the email, are
all reported.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sys
import time
import uuid

import pytest
import stripe
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests import factories
from tests.helpers import DEMO
from tests.privacy_net import (
    CONTACTS,
    DOCUMENT_LABEL,
    EMAIL,
    FORWARDED,
    MESSAGE,
    PUBLIC_NAME,
    PURPOSE,
    REAL_NAME,
    RECIPIENT,
    REMOTE_ADDR,
    VERIFICATION_NOTES,
    WEBHOOK_SECRET,
    _Keep,
    find_leaks,
    handed_back,
    render,
)
from zbor.campaigns.models import Need
from zbor.disbursements.models import Payout, PayoutStatus
from zbor.donations import services as donation_services
from zbor.donations.models import Donation, DonationStatus, MessageStatus
from zbor.payments import registry

pytestmark = pytest.mark.django_db


@pytest.fixture
def every_log():
    """Every record of every logger at DEBUG, for the test; levels, `disabled` and the global
    `logging.disable` threshold are restored afterwards."""
    keep = _Keep()
    root = logging.getLogger()
    loggers = [root, *(lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger))]
    saved = [(lg, lg.level, lg.disabled) for lg in loggers]
    saved_disable = logging.root.manager.disable
    logging.disable(logging.NOTSET)
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.disabled = False
    root.addHandler(keep)
    # Loggers that do not propagate never reach the root: listen on them too.
    islands = [lg for lg in loggers if not lg.propagate]
    for lg in islands:
        lg.addHandler(keep)
    try:
        yield keep.records
    finally:
        root.removeHandler(keep)
        for lg in islands:
            lg.removeHandler(keep)
        for lg, level, disabled in saved:
            lg.setLevel(level)
            lg.disabled = disabled
        logging.disable(saved_disable)


# --- the flow ------------------------------------------------------------------------------


@pytest.fixture
def with_stripe_webhooks(settings):
    """Stripe on, so its webhook endpoint answers (only webhooks are used: no API call)."""
    settings.ZBOR_PAYMENT_PROVIDERS = [*settings.ZBOR_PAYMENT_PROVIDERS, "stripe"]
    settings.STRIPE_SECRET_KEY = "sk_test_privacy"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens: a call would fail, not leave
    registry._providers.cache_clear()
    yield
    registry._providers.cache_clear()


@pytest.fixture
def behind_a_proxy(settings):
    settings.ZBOR_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"  # sign-in and rate limits read the forwarded address


def donor_client(**kwargs) -> Client:
    return Client(REMOTE_ADDR=REMOTE_ADDR, HTTP_X_FORWARDED_FOR=", ".join(FORWARDED), **kwargs)


def donate_data(method: str, **extra) -> dict:
    return {
        "amount": "40",
        "need": "",
        "public_name": PUBLIC_NAME,
        "email": EMAIL,
        "message": MESSAGE,
        "method": method,
        "idempotency_key": uuid.uuid4().hex,
        **extra,
    }


def staff(user) -> Client:
    client = Client(REMOTE_ADDR="192.0.2.10")
    client.force_login(user)
    return client


def pledge_by_bank(client, **extra) -> tuple[Donation, str]:
    assert client.get(f"/en/campaigns/{DEMO}/donate/").status_code == 200
    started = client.post(f"/en/campaigns/{DEMO}/donate/", donate_data("bank", **extra))
    assert started.status_code == 302, started.content.decode()[:2000]
    page = client.get(started["Location"]).content.decode()
    reference = re.search(r'<code class="reference">([A-Z0-9-]+)</code>', page).group(1)
    return Donation.objects.get(provider="bank", checkout_reference=reference.replace("-", "")), reference


def give_by_card(client, captured_commits) -> Donation:
    """The demo card checkout: the form (with the browser's proof-of-work answer), the TEST MODE
    page, "complete"; the receipt task is queued on commit and runs at once in tests."""
    assert client.get(f"/en/campaigns/{DEMO}/donate/").status_code == 200
    with captured_commits(execute=True):
        started = client.post(
            f"/en/campaigns/{DEMO}/donate/", donate_data("demo", challenge=factories.solved_challenge())
        )
        assert started.status_code == 302, started.content.decode()[:2000]
        checkout = started["Location"]
        assert "TEST MODE" in client.get(checkout).content.decode()
        done = client.post(checkout, {"outcome": "complete"})
    assert "Thank you" in client.get(done["Location"]).content.decode()
    return Donation.objects.get(provider="demo", checkout_reference=checkout.rstrip("/").rsplit("/", 1)[1])


def import_statement(finance, reference: str, amount: str = "40.00"):
    """Finance imports the bank statement; its line carries the payer's name, as banks' do. The
    pledge is confirmed and its receipt task runs (on commit; tests run tasks at once)."""
    statement = f"date,amount,currency,reference,transaction_id\n2026-11-28,{amount},EUR,{PUBLIC_NAME} {reference},T-{reference}\n"
    return staff(finance).post(
        reverse("admin:donations_bankstatement_import"),
        {"file": SimpleUploadedFile("statement.csv", statement.encode())},
        follow=True,
    )


def pdf_naming(person: str) -> SimpleUploadedFile:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Author": person, "/Title": person})
    out = io.BytesIO()
    writer.write(out)
    return SimpleUploadedFile("scan.pdf", out.getvalue(), content_type="application/pdf")


def stripe_event(event_type: str, obj: dict) -> str:
    return json.dumps(
        {
            "id": f"evt_{uuid.uuid4().hex[:16]}",
            "object": "event",
            "api_version": "2025-01-27.acacia",
            "created": int(time.time()),
            "type": event_type,
            "data": {"object": obj},
        }
    )


def run_the_whole_flow(demo, captured_commits, settings) -> None:
    donor = donor_client()
    editor = factories.role_user("editor", "privacy-ed")
    finance, finance2 = factories.role_user("finance", "privacy-fin"), factories.role_user("finance", "privacy-fin2")

    # 1. A card payment, every optional field filled in, through the demo checkout; the
    #    receipt task emails the donor.
    card = give_by_card(donor, captured_commits)
    assert card.status == DonationStatus.SUCCEEDED and card.receipt_sent_at is not None
    assert [m.to for m in mail.outbox] == [[EMAIL]]

    # 2. The same donor pledges a bank transfer; finance imports the statement, the pledge is
    #    confirmed and a second receipt goes out.
    pledge, reference = pledge_by_bank(donor)
    with captured_commits(execute=True):
        imported = import_statement(finance, reference)
    assert "1 matched to donations" in imported.content.decode()
    pledge.refresh_from_db()
    assert pledge.status == DonationStatus.SUCCEEDED and pledge.receipt_sent_at is not None
    assert [m.to for m in mail.outbox] == [[EMAIL], [EMAIL]]
    assert "Thank you" in donor.get(reverse("site:donation_status", args=[pledge.public_id])).content.decode()

    # 3. An editor approves the words of support; the campaign page shows them.
    moderated = staff(editor).post(
        reverse("admin:donations_wordsofsupport_changelist"),
        {"action": "approve_messages", "_selected_action": [card.pk, pledge.pk]},
    )
    assert moderated.status_code == 302
    assert set(Donation.objects.filter(message=MESSAGE).values_list("message_status", flat=True)) == {
        MessageStatus.APPROVED
    }
    assert MESSAGE in donor.get(f"/en/campaigns/{DEMO}/").content.decode()

    # 4. An editor writes the beneficiary's private details and a document, then reads them.
    beneficiary = demo.beneficiary
    change = reverse("admin:campaigns_beneficiary_change", args=[beneficiary.pk]) + "?language=en"
    saved = staff(editor).post(
        change,
        {
            "reference": beneficiary.reference,
            "display_name": beneficiary.safe_translation_getter("display_name", any_language=True),
            "name_is_pseudonym": "on",
            "consent_recorded": "on",
            "at_risk": "on" if beneficiary.at_risk else "",
            "real_name": REAL_NAME,
            "contacts": CONTACTS,
            "verification_notes": VERIFICATION_NOTES,
            "new_document": pdf_naming(REAL_NAME),
            "new_document_label": DOCUMENT_LABEL,
        },
    )
    assert saved.status_code == 302, saved.content.decode()[:3000]
    assert REAL_NAME in staff(editor).get(change).content.decode()

    # 5. Finance requests a payout to a recipient, a second person approves, it is paid with proof.
    need = Need.objects.get(campaign=demo, position=0)
    requested = staff(finance).post(
        reverse("admin:disbursements_payout_request"),
        {"need": need.pk, "amount": "300", "channel": "bank_abroad", "recipient": RECIPIENT, "purpose": PURPOSE},
    )
    assert requested.status_code == 302, requested.content.decode()[:3000]
    payout = Payout.objects.get(need=need)
    staff(finance2).post(reverse("admin:disbursements_payout_act", args=[payout.pk, "approve"]))
    staff(finance).post(
        reverse("admin:disbursements_payout_act", args=[payout.pk, "pay"]), {"proof": pdf_naming(RECIPIENT)}
    )
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PAID
    assert (
        RECIPIENT
        in staff(finance2).get(reverse("admin:disbursements_payout_change", args=[payout.pk])).content.decode()
    )

    # 6. What goes wrong. A failed sign-in (the donor's email typed as the user name), a
    #    form posted without its CSRF token, a card payment without the browser check (no
    #    JavaScript), a pledge over the hourly limit, a webhook with a bad signature, a signed
    #    one for no known checkout that names the payer, and a page that does not exist.
    failed = donor_client().post(
        "/backoffice/login/", {"username": EMAIL, "password": MESSAGE, "next": "/backoffice/"}
    )
    assert failed.status_code == 200 and "correct username and password" in failed.content.decode()
    assert (
        donor_client(enforce_csrf_checks=True).post(f"/en/campaigns/{DEMO}/donate/", donate_data("bank")).status_code
        == 403
    )
    assert donor.post(f"/en/campaigns/{DEMO}/donate/", donate_data("demo")).status_code == 400
    settings.ZBOR_PLEDGES_PER_CLIENT_HOUR = 1
    assert donor.post(f"/en/campaigns/{DEMO}/donate/", donate_data("bank")).status_code == 429
    customer = {"email": EMAIL, "name": PUBLIC_NAME, "address": {"line1": REAL_NAME}}
    session = {
        "id": "cs_test_unknown_privacy",
        "object": "checkout.session",
        "payment_status": "paid",
        "amount_total": 2500,
        "currency": "eur",
        "customer_details": customer,
    }
    payload = stripe_event("checkout.session.completed", session)
    bad = donor.post(
        "/webhooks/stripe/", payload, content_type="application/json", headers={"stripe-signature": "t=1,v1=deadbeef"}
    )
    assert bad.status_code == 400
    header = stripe.WebhookSignature.generate_signature_header(payload, WEBHOOK_SECRET)
    unknown = donor.post(
        "/webhooks/stripe/", payload, content_type="application/json", headers={"stripe-signature": header}
    )
    assert unknown.status_code == 200
    # (A path the visitor typed is logged as it is on a 404, so this one is not personal.)
    assert donor.get("/en/campaigns/no-such-campaign/").status_code == 404


def test_no_personal_data_in_any_log_record_or_output(
    demo, every_log, capfd, with_stripe_webhooks, behind_a_proxy, settings, django_capture_on_commit_callbacks
):
    run_the_whole_flow(demo, django_capture_on_commit_callbacks, settings)
    out, err = handed_back(capfd)
    # The net was open: the paths that log did log, and were caught.
    logged = {(r.name, r.levelname) for r in every_log}
    assert {
        ("django.request", "WARNING"),
        ("django.security.csrf", "WARNING"),
        ("zbor.donations.events", "WARNING"),
        ("zbor.site.donate_views", "WARNING"),
        ("huey", "INFO"),
    } <= logged, logged
    leaks = find_leaks(every_log, out, err)
    assert leaks == [], "\n".join(leaks)


def test_a_mail_server_refusing_the_address_leaks_nothing(
    demo, every_log, capfd, monkeypatch, django_capture_on_commit_callbacks
):
    """SMTP errors name the refused address; the receipt task fails, is retried, and logs the
    failure (huey, ERROR, with the traceback) without it."""
    import smtplib

    from django.core.mail.backends import locmem

    def refuse(self, messages):
        raise smtplib.SMTPRecipientsRefused({EMAIL: (550, f"5.1.1 <{EMAIL}>: Recipient address rejected".encode())})

    monkeypatch.setattr(locmem.EmailBackend, "send_messages", refuse)
    pledge, reference = pledge_by_bank(donor_client())
    with django_capture_on_commit_callbacks(execute=True):
        import_statement(factories.role_user("finance"), reference)
    pledge.refresh_from_db()
    assert pledge.status == DonationStatus.SUCCEEDED and pledge.receipt_sent_at is None
    failures = [r for r in every_log if r.name == "huey" and r.levelname == "ERROR"]
    assert failures and all("ReceiptNotSent" in render(r) for r in failures)
    out, err = handed_back(capfd)
    leaks = find_leaks(every_log, out, err)
    assert leaks == [], "\n".join(leaks)


def test_the_checker_catches_a_leaking_log_call(demo, every_log, capfd, monkeypatch):
    """The same net, with a careless DEBUG log call, print and stderr write put into the flow."""
    real = donation_services.start_donation

    def careless(campaign, **kwargs):
        logging.getLogger("zbor.donations.services").debug("starting a donation for %s", kwargs["email"])
        print(f"donor: {kwargs['public_name']}")
        sys.stderr.write(f"from {REMOTE_ADDR}\n")
        return real(campaign, **kwargs)

    monkeypatch.setattr(donation_services, "start_donation", careless)
    pledge_by_bank(donor_client())
    out, err = capfd.readouterr()
    leaks = find_leaks(every_log, out, err)
    assert any(leak.startswith("donor email in log zbor.donations.services DEBUG") for leak in leaks), leaks
    assert "donor name in stdout" in leaks and f"client address {REMOTE_ADDR} in stderr" in leaks, leaks
    # A value only in an exception's text (or only in a traceback) is caught too.
    try:
        raise ValueError(f"refused <{EMAIL}>")
    except ValueError:
        logging.getLogger("zbor.tasks").exception("receipt failed")
    assert any(leak.startswith("donor email in log zbor.tasks ERROR") for leak in find_leaks(every_log, "", ""))


def test_production_does_not_print_receipts_to_its_output():
    """Receipts carry the donor's email in their To: header; a mail backend that prints them
    puts it in the server's logs."""
    import os
    import subprocess

    code = "import django; django.setup(); from django.conf import settings; print(settings.EMAIL_BACKEND)"
    env = {k: v for k, v in os.environ.items() if k != "EMAIL_BACKEND"}
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "s" * 64,
        "ZBOR_PAYMENT_PROVIDERS": "bank",
        "ZBOR_ENCRYPTION_KEYS": "ZmFrZS10ZXN0LWtleS0wMDAwMDAwMDAwMDAwMDAwMDA=",
    }
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "django.core.mail.backends.smtp.EmailBackend"
    for printing in ("console", "filebased"):
        env["EMAIL_BACKEND"] = f"django.core.mail.backends.{printing}.EmailBackend"
        refused = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
        assert refused.returncode != 0 and "EMAIL_BACKEND must send mail" in refused.stderr
