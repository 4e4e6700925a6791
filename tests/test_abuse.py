"""Defences of the donate path and of every page against a hostile internet. Each test here
fails when the control it names is taken away."""

import base64
import datetime
import json
import re
import types
import uuid
from unittest import mock

import altcha
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone as django_timezone

from tests import factories
from tests.helpers import CAMPAIGN
from zbor import challenge, private_files, ratelimit
from zbor.accounts.models import RateCounter
from zbor.donations.models import Donation, MessageStatus
from zbor.payments import registry

pytestmark = pytest.mark.django_db
DONATE = f"/en/campaigns/{CAMPAIGN}/donate/"
ADDRESS = "203.0.113.77"


def card(**extra):
    return {
        "amount": "25",
        "method": "demo",
        "idempotency_key": uuid.uuid4().hex,
        "challenge": factories.solved_challenge(),
        **extra,
    }


def pledge(**extra):
    return {"amount": "25", "method": "bank", "idempotency_key": uuid.uuid4().hex, **extra}


@pytest.fixture
def new(campaign):
    """The donations made by the test itself."""
    first = (Donation.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    return lambda: Donation.objects.filter(pk__gte=first)


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


# --- Rate limits -------------------------------------------------------------------------


def test_card_payments_from_one_client_stop_at_the_limit_with_a_translated_429(client, new, settings):
    settings.ZBOR_CARD_STARTS_PER_CLIENT_HOUR = 3
    for _ in range(3):
        assert client.post(DONATE, card(), REMOTE_ADDR=ADDRESS).status_code == 302
    refused = client.post(DONATE, card(), REMOTE_ADDR=ADDRESS)
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 3600
    assert "Many payments were started from your connection" in text_of(refused)
    assert new().count() == 3  # the fourth made nothing
    # Another client is not affected, and the Russian page is translated.
    assert client.post(DONATE, card(), REMOTE_ADDR="198.51.100.9").status_code == 302
    russian = client.post(f"/ru/campaigns/{CAMPAIGN}/donate/", card(), REMOTE_ADDR=ADDRESS)
    assert russian.status_code == 429 and "Пожалуйста" in russian.content.decode()


def test_behind_a_proxy_the_configured_header_names_the_client(client, campaign, settings):
    settings.ZBOR_CARD_STARTS_PER_CLIENT_HOUR = 1
    settings.ZBOR_CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    settings.ZBOR_TRUSTED_PROXIES = ["10.0.0.0/24"]
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    assert client.post(DONATE, card(), HTTP_X_FORWARDED_FOR=ADDRESS, **proxy).status_code == 302
    assert client.post(DONATE, card(), HTTP_X_FORWARDED_FOR="198.51.100.9", **proxy).status_code == 302
    assert client.post(DONATE, card(), HTTP_X_FORWARDED_FOR=f"{ADDRESS}, 10.0.0.2", **proxy).status_code == 429


def test_bank_pledges_have_their_own_limit(client, campaign, settings):
    settings.ZBOR_PLEDGES_PER_CLIENT_HOUR = 2
    assert [client.post(DONATE, pledge(), REMOTE_ADDR=ADDRESS).status_code for _ in range(3)] == [302, 302, 429]
    assert client.post(DONATE, card(), REMOTE_ADDR=ADDRESS).status_code == 302  # cards are counted apart


def test_a_campaign_takes_at_most_so_many_donations_an_hour_from_everyone(client, campaign, settings):
    settings.ZBOR_DONATIONS_PER_CAMPAIGN_HOUR = 2
    codes = [client.post(DONATE, pledge(), REMOTE_ADDR=f"198.51.100.{n}").status_code for n in range(3)]
    assert codes == [302, 302, 429]
    assert "very many donations in the last hour" in text_of(client.post(DONATE, card(), REMOTE_ADDR="192.0.2.1"))


def test_the_counters_never_hold_an_address_and_rotate_daily(client, campaign, settings):
    settings.ZBOR_CARD_STARTS_PER_CLIENT_HOUR = 5
    settings.REDIS_URL = ""  # the database's counters, read below (with Redis they are in the cache)
    client.post(DONATE, card(), REMOTE_ADDR=ADDRESS)
    factories.staff_user("someone")
    client.post("/backoffice/login/", {"username": "someone", "password": "wrong"}, REMOTE_ADDR=ADDRESS)
    stored = json.dumps(list(RateCounter.objects.values_list("key", flat=True)))
    assert RateCounter.objects.count() >= 2
    assert ADDRESS not in stored and "someone" not in stored
    today = ratelimit.client_hash(type("R", (), {"META": {"REMOTE_ADDR": ADDRESS}})())
    assert today not in stored  # the keys are hashes of the (already hashed) subjects
    from django.utils import timezone

    tomorrow = timezone.now() + timezone.timedelta(days=1)
    from unittest import mock

    with mock.patch("django.utils.timezone.now", return_value=tomorrow):
        assert ratelimit.client_hash(type("R", (), {"META": {"REMOTE_ADDR": ADDRESS}})()) != today


def test_the_embedded_default_counts_in_the_database_and_redis_when_configured(settings):
    rule = ratelimit.Rule("test-rule", 2, 60)
    verdicts = [ratelimit.hit(rule, "subject").allowed for _ in range(3)]
    assert verdicts == [True, True, False]
    if settings.REDIS_URL:
        assert not RateCounter.objects.exists()  # every app server sees the same Redis counter
    else:
        assert RateCounter.objects.get().count == 3


# --- The proof-of-work challenge -----------------------------------------------------------


def test_a_card_payment_without_the_challenge_is_refused_and_makes_nothing(client, new):
    refused = client.post(DONATE, card(challenge=""))
    assert refused.status_code == 400
    assert "Card payments need a short automatic check" in text_of(refused)
    assert not new().exists()
    assert client.post(DONATE, pledge()).status_code == 302  # a bank pledge needs no JavaScript


def _payload(**changes):
    payload = json.loads(base64.b64decode(factories.solved_challenge()))
    payload.update(changes)
    return base64.b64encode(json.dumps(payload).encode()).decode()


@pytest.mark.parametrize(
    "bad",
    [
        "not base64 at all!",
        base64.b64encode(b"[1, 2]").decode(),
        base64.b64encode(b'{"algorithm": "SHA-256"}').decode(),
    ],
)
def test_malformed_answers_are_refused(client, campaign, bad):
    assert client.post(DONATE, card(challenge=bad)).status_code == 400


def test_a_wrong_number_a_forged_signature_or_an_old_challenge_is_refused(client, campaign, settings):
    payload = json.loads(base64.b64decode(factories.solved_challenge()))
    assert client.post(DONATE, card(challenge=_payload(number=payload["number"] + 1))).status_code == 400
    forged = altcha.create_challenge_v1(hmac_key="not-our-key", max_number=10)
    solution = altcha.solve_challenge_v1(forged.challenge, forged.salt, "SHA-256", 10)
    made_up = base64.b64encode(
        json.dumps(
            {
                "algorithm": "SHA-256",
                "challenge": forged.challenge,
                "number": solution.number,
                "salt": forged.salt,
                "signature": forged.signature,
            }
        ).encode()
    ).decode()
    assert client.post(DONATE, card(challenge=made_up)).status_code == 400
    settings.ZBOR_CHALLENGE_SECONDS = -1
    assert client.post(DONATE, card()).status_code == 400  # expired at once


def test_an_answer_is_accepted_once(client, new):
    answer = factories.solved_challenge()
    assert client.post(DONATE, card(challenge=answer)).status_code == 302
    assert client.post(DONATE, card(challenge=answer)).status_code == 400
    assert new().count() == 1


def test_our_answers_are_altchas_format(settings):
    """ALTCHA's own library accepts what our page sends, once it knows our key."""
    payload = factories.challenge_payload()
    ok, error = altcha.verify_solution_v1(payload, challenge._key())
    assert ok, error


def test_the_donate_page_carries_a_challenge_and_its_script_only_when_a_card_method_is_on(client, campaign, settings):
    page = client.get(DONATE).content.decode()
    assert 'data-challenge="{' in page.replace("&quot;", '"') and "zbor/challenge.js" in page
    settings.ZBOR_PAYMENT_PROVIDERS = ["bank"]
    registry._providers.cache_clear()
    try:
        page = client.get(DONATE).content.decode()
    finally:
        registry._providers.cache_clear()
    assert "data-challenge" not in page and "<script" not in page


# --- Free text -----------------------------------------------------------------------------


def test_words_of_support_are_stored_as_plain_text_and_shown_escaped_after_moderation(client, new):
    from zbor.donations.services import moderate_message

    message = "<script>alert(1)</script>\u202eGive\u200b to\x07 Anna\r\nline two"
    response = client.post(DONATE, pledge(public_name="  Ola\u202e  <b>x</b> ", message=message))
    assert response.status_code == 302
    donation = new().get()
    assert donation.message == "<script>alert(1)</script>Give to Anna\nline two"
    assert donation.public_name == "Ola <b>x</b>" and donation.message_status == MessageStatus.PENDING
    donation.status = "succeeded"
    donation.save(update_fields=["status"])
    assert "alert(1)" not in client.get(f"/en/campaigns/{CAMPAIGN}/").content.decode()  # not before approval
    moderate_message(donation, approve=True, by=factories.role_user("editor"))
    page = client.get(f"/en/campaigns/{CAMPAIGN}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    # Only the name's first word is shown (zbor.public.momentum); the rest is never markup.
    assert "Ola" in page and "<b>x" not in page


def test_free_text_has_length_limits(client, new):
    too_long = client.post(DONATE, pledge(message="x" * 501, public_name="y" * 41))
    assert too_long.status_code == 400 and not new().exists()
    assert "at most 500 characters" in text_of(too_long) and "at most 40 characters" in text_of(too_long)


# --- Headers -------------------------------------------------------------------------------


def _policy(response) -> dict[str, str]:
    return {
        part.strip().split(" ", 1)[0]: part.strip().split(" ", 1)[1] if " " in part.strip() else ""
        for part in response["Content-Security-Policy"].split(";")
        if part.strip()
    }


@pytest.mark.parametrize(
    "path",
    [
        "/en/",
        "/en/campaigns/",
        f"/en/campaigns/{CAMPAIGN}/",
        DONATE,
        "/en/transparency/",
        "/backoffice/login/",
        "/api/v1/docs",
    ],
)
def test_every_page_has_a_strict_content_security_policy(client, campaign, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'" and policy["base-uri"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    assert response["Referrer-Policy"] == "same-origin" and response["X-Content-Type-Options"] == "nosniff"
    # No inline script or style the policy would block: every <script> has a src.
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", html)
    assert not re.search(r"<[a-z]+[^>]*\sstyle=", html) and "<style" not in html


def test_only_the_embed_widget_may_be_framed(client, campaign):
    widget = client.get(f"/embed/campaigns/{CAMPAIGN}/")
    assert "frame-ancestors *" in widget["Content-Security-Policy"] and "X-Frame-Options" not in widget
    assert client.get(f"/en/campaigns/{CAMPAIGN}/")["X-Frame-Options"] == "DENY"


def test_the_donate_form_may_lead_to_the_card_checkout_only_when_stripe_is_on(client, campaign, settings):
    assert _policy(client.get(DONATE))["form-action"] == "'self'"
    settings.ZBOR_PAYMENT_PROVIDERS = ["stripe", "bank"]
    settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET = "sk_test_x", "whsec_x"
    registry._providers.cache_clear()
    try:
        assert _policy(client.get(DONATE))["form-action"] == "'self' https://checkout.stripe.com"
        assert _policy(client.get(f"/en/campaigns/{CAMPAIGN}/"))["form-action"] == "'self'"
    finally:
        registry._providers.cache_clear()


def test_personal_pages_are_never_stored(client, campaign):
    started = client.post(DONATE, card(email="donor@example.org"))
    checkout = client.get(started["Location"])
    done = client.post(started["Location"], {"outcome": "complete"})
    thanks = client.get(done["Location"])
    for response in (client.get(DONATE), checkout, thanks):
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


# --- Uploads -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("statement.pdf", b"<html><script>alert(1)</script></html>"),
        ("photo.jpg", b"MZ\x90\x00 a program"),
        ("proof.png", b"%!PS-Adobe-3.0 a postscript file"),
    ],
)
def test_a_private_upload_is_judged_by_its_content_not_its_name(name, content):
    with pytest.raises(ValidationError):
        private_files.clean_upload(SimpleUploadedFile(name, content, content_type="application/pdf"))


def test_a_private_upload_over_the_size_limit_is_refused(monkeypatch):
    monkeypatch.setattr(private_files, "MAX_PRIVATE_FILE_BYTES", 10)
    with pytest.raises(ValidationError):
        private_files.clean_upload(SimpleUploadedFile("a.pdf", b"%PDF-1.4 " + b"x" * 20))


def test_the_rate_counter_table_is_the_one_the_upsert_writes():
    assert RateCounter._meta.db_table in ratelimit.UPSERT
    assert RateCounter._meta.db_table in connection.introspection.table_names()


def test_a_periodic_task_deletes_ended_windows(settings):
    from zbor.accounts.tasks import forget_expired_rate_counters

    settings.REDIS_URL = ""
    ratelimit.hit(ratelimit.Rule("short", 5, 1), "x")
    forget_expired_rate_counters.call_local()
    assert RateCounter.objects.exists()  # its window is not over yet
    # Two seconds later, by the clock zbor.ratelimit reads (no test sleeps).
    later = types.SimpleNamespace(now=lambda: django_timezone.now() + datetime.timedelta(seconds=2.1))
    with mock.patch.object(ratelimit, "timezone", later):
        forget_expired_rate_counters.call_local()
    assert not RateCounter.objects.exists()
