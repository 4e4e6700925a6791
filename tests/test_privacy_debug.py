"""LOG_LEVEL=DEBUG: Zbor's loggers say more, no library's does, and a card payment whose
cardholder's billing details come back from Stripe reaches no log (the net is tests/privacy_net.py)."""

from __future__ import annotations

import json
import logging
import sys
import uuid

import pytest

from tests import factories
from tests.helpers import DEMO
from tests.privacy_net import (
    WEBHOOK_SECRET,
    _Keep,
    _variants,
    handed_back,
    render,
)
from zbor.donations.models import Donation, DonationStatus

pytestmark = pytest.mark.django_db


# The cardholder as Stripe returns them in a charge's billing details and a session's customer.
CARDHOLDER = {
    "name": "Ciaran Billingsworth-Quay",
    "email": "ciaran.billing+q7@example.net",
    "phone": "+48 600 700 801",
    "address": {
        "line1": "Ulica Kartowa 17/4",
        "city": "Gdansk",
        "postal_code": "80-117",
        "country": "PL",
        "line2": None,
        "state": None,
    },
}
BILLING = {
    "cardholder name": _variants(CARDHOLDER["name"]) | {"Billingsworth"},
    "cardholder email": _variants(CARDHOLDER["email"]) | {"ciaran.billing"},
    "cardholder phone": _variants(CARDHOLDER["phone"]) | {"600 700 801"},
    "cardholder address": _variants(CARDHOLDER["address"]["line1"]) | {"Kartowa", "80-117"},
}


def _logging_settings_at(level: str) -> dict:
    """settings.LOGGING as the server builds it with LOG_LEVEL=level (a fresh interpreter)."""
    import os
    import subprocess

    code = "import json, django; django.setup(); from django.conf import settings; print(json.dumps(settings.LOGGING))"
    env = {**os.environ, "LOG_LEVEL": level, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


@pytest.fixture
def logging_at_debug(settings):
    """The logging the server sets up with LOG_LEVEL=DEBUG, and every record any of its loggers
    lets through (a handler on the root and on each logger that does not propagate; no level is
    touched). Django's own configuration is put back afterwards."""
    import logging.config

    logging.config.dictConfig(_logging_settings_at("DEBUG"))
    keep = _Keep()
    islands = [
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger) and not lg.propagate
    ]
    for lg in [logging.getLogger(), *islands]:
        lg.addHandler(keep)
    try:
        yield keep.records
    finally:
        logging.config.dictConfig(settings.LOGGING)


def test_with_log_level_debug_only_zbor_logs_below_warning():
    """LOG_LEVEL turns up Zbor's own loggers; the Stripe SDK, urllib3, huey and every other
    library stay at WARNING (at DEBUG the SDK logs whole API responses)."""
    import os
    import subprocess

    code = (
        "import logging, django; django.setup()\n"
        "import stripe, urllib3, huey, weasyprint, redis, PIL.Image, zbor.payments.stripe, zbor.donations.tasks\n"
        "from huey.contrib.djhuey import HUEY\n"
        "loggers = [logging.getLogger(), *(l for l in logging.Logger.manager.loggerDict.values() if isinstance(l, logging.Logger))]\n"
        "print([l.name for l in loggers if l.getEffectiveLevel() < logging.WARNING and not l.name.startswith('zbor')])\n"
        "print(logging.getLogger('zbor.payments.stripe').getEffectiveLevel() == logging.DEBUG)\n"
    )
    env = {
        **os.environ,
        "LOG_LEVEL": "DEBUG",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "s" * 64,
        "ZBOR_PAYMENT_PROVIDERS": "stripe,bank",
        "ZBOR_ENCRYPTION_KEYS": "ZmFrZS10ZXN0LWtleS0wMDAwMDAwMDAwMDAwMDAwMDA=",
    }
    env.pop("STRIPE_LOG", None)
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split("\n")[:2] == ["[]", "True"], result.stdout


def test_at_debug_a_stripe_payment_with_billing_details_reaches_no_log(
    client, demo, settings, logging_at_debug, capfd
):
    """A card payment through the real Stripe SDK against a fake API whose charge carries the
    cardholder's name, email, phone and address, and whose webhook names the customer: with
    LOG_LEVEL=DEBUG none of them is in any record or output."""
    from tests.fake_stripe import stripe_enabled
    from zbor.payments.tests.test_stripe import send, session_completed

    with stripe_enabled(settings, WEBHOOK_SECRET) as fake:
        fake.charge_fields = {"billing_details": CARDHOLDER, "receipt_email": CARDHOLDER["email"]}
        started = client.post(
            f"/en/campaigns/{DEMO}/donate/",
            {
                "amount": "25",
                "method": "stripe",
                "idempotency_key": uuid.uuid4().hex,
                "challenge": factories.solved_challenge(),
            },
        )
        assert started.status_code == 302, started.content.decode()[:2000]
        donation = Donation.objects.get(provider="stripe")
        session = {
            **session_completed(donation.checkout_reference, pi="pi_test_billing"),
            "customer_details": {k: CARDHOLDER[k] for k in ("name", "email", "phone", "address")},
        }
        assert send(client, "checkout.session.completed", session, secret=WEBHOOK_SECRET).status_code == 200
        assert any(r["path"].startswith("/v1/payment_intents/pi_test_billing") for r in fake.requests)
    donation.refresh_from_db()
    assert donation.status == DonationStatus.SUCCEEDED
    out, err = handed_back(capfd)
    texts = {f"log {r.name} {r.levelname}: {r.getMessage()[:120]!r}": render(r) for r in logging_at_debug} | {
        "stdout": out,
        "stderr": err,
    }
    leaks = sorted(
        f"{what} in {where}"
        for where, text in texts.items()
        for what, needles in BILLING.items()
        if any(n.lower() in text.lower() for n in needles)
    )
    assert leaks == [], "\n".join(leaks)
    assert not [
        r for r in logging_at_debug if r.name.startswith(("stripe", "urllib3")) and r.levelno < logging.WARNING
    ]


def test_production_refuses_the_stripe_sdks_own_console_log():
    """STRIPE_LOG=debug makes the SDK print every API response to stderr, past the logging
    settings: production refuses to start with it."""
    import os
    import subprocess

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "s" * 64,
        "ZBOR_PAYMENT_PROVIDERS": "stripe",
        "ZBOR_ENCRYPTION_KEYS": "ZmFrZS10ZXN0LWtleS0wMDAwMDAwMDAwMDAwMDAwMDA=",
        "STRIPE_LOG": "debug",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0 and "STRIPE_LOG" in result.stderr
