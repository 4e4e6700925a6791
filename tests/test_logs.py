"""Logs an operator can use (zbor/logs.py, config/settings/logs.py): with LOG_FORMAT=json one
JSON line per request naming its route, never its path, with the id the response's X-Request-ID
header carries; a traceback as one record with that id; business events as lines of their own,
once, with ids and counts only; WeasyPrint quiet; each line of huey's worker once."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import path, reverse

from config.settings.logs import logging_config
from tests import factories
from tests.helpers import DEMO
from tests.test_privacy import import_statement, pledge_by_bank
from zbor.campaigns.models import Need
from zbor.disbursements import services as payouts
from zbor.donations.models import DonationStatus
from zbor.donations.services import record_demo_donation
from zbor.site.tests.test_fastpath import django_app  # noqa: F401 - the fixture: Django behind the page cache

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def boom(request, token):
    raise RuntimeError("the view broke")


#: A URL only this module's exception test uses (@pytest.mark.urls).
urlpatterns = [path("boom/<str:token>/", boom, name="boom")]


class JsonLines:
    """What the console handler wrote, as parsed lines; every line must be one JSON object."""

    def __init__(self, stream: io.StringIO):
        self.stream = stream

    def all(self) -> list[dict]:
        text = self.stream.getvalue()
        return [json.loads(line) for line in text.splitlines()]

    def text(self) -> str:
        return self.stream.getvalue()


@pytest.fixture
def json_logs(settings):
    """The logging the server sets up with LOG_FORMAT=json, its console writing to a buffer.
    Django's own configuration is put back afterwards."""
    logging.config.dictConfig(logging_config("INFO", "json"))
    (console,) = logging.getLogger().handlers
    stream = io.StringIO()
    console.setStream(stream)
    try:
        yield JsonLines(stream)
    finally:
        logging.config.dictConfig(settings.LOGGING)


def test_a_request_is_one_json_line_with_its_route_and_the_id_of_its_header(demo, json_logs):
    pledge, _reference = pledge_by_bank(Client())
    json_logs.stream.truncate(0), json_logs.stream.seek(0)
    response = Client().get(reverse("site:donation_status", args=[pledge.public_id]) + "?token=q7secret")
    assert response.status_code == 200
    (line,) = json_logs.all()
    assert line["event"] == "request" and line["level"] == "INFO" and line["logger"] == "zbor.requests"
    assert line["method"] == "GET" and line["route"] == "site:donation_status" and line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["timestamp"].endswith("+00:00")
    assert len(line["request_id"]) == 16 and int(line["request_id"], 16) >= 0
    assert response["X-Request-ID"] == line["request_id"]
    text = json_logs.text()
    assert str(pledge.public_id) not in text and pledge.public_id.hex not in text and "q7secret" not in text


def test_each_request_has_its_own_id_and_a_forged_one_is_not_kept(demo, json_logs, settings):
    forged = {"X-Request-ID": "yaryna@example.org"}
    first, second = (Client().get("/en/", headers=forged)["X-Request-ID"] for _ in range(2))
    assert first != second and "yaryna" not in json_logs.text()
    assert [line["request_id"] for line in json_logs.all()] == [first, second]
    # Behind a proxy that sets it on every request, its id (nginx's $request_id) is kept; not
    # anything else it is sent.
    settings.ZBOR_TRUST_REQUEST_ID = True
    assert (
        Client().get("/en/", headers={"X-Request-ID": "0123456789abcdef" * 2})["X-Request-ID"]
        == "0123456789abcdef" * 2
    )
    assert (
        Client().get("/en/", headers={"X-Request-ID": "0123456789abcdef\n{"})["X-Request-ID"] != "0123456789abcdef\n{"
    )


def test_a_page_the_public_cache_serves_has_its_own_id_and_line(demo, json_logs, django_app):  # noqa: F811
    """A copy served by the page cache in front of Django (zbor/site/fastpath.py) never enters
    the middleware: the cache gives it an id and a line of its own, with the page's route."""
    from zbor.site.fastpath import PublicPageCache
    from zbor.site.tests.test_fastpath import call

    app = PublicPageCache(django_app, seconds=60)
    ids = [call(app, f"/en/campaigns/{DEMO}/")[1]["X-Request-ID"] for _ in range(3)]
    etag = call(app, f"/en/campaigns/{DEMO}/")[1]["ETag"]
    not_modified = call(app, f"/en/campaigns/{DEMO}/", HTTP_IF_NONE_MATCH=etag)
    lines = json_logs.all()
    assert [(line["route"], line["status"]) for line in lines] == [("site:campaign_detail", 200)] * 4 + [
        ("site:campaign_detail", 304)
    ]
    assert [line["request_id"] for line in lines][:3] == ids and len(set(ids)) == 3
    assert not_modified[1]["X-Request-ID"] == lines[-1]["request_id"]


def test_health_probes_are_not_logged(json_logs):
    for probe in ("/healthz", "/readyz", "/healthz/"):
        Client().get(probe)
    assert json_logs.all() == []


@pytest.mark.urls("tests.test_logs")
def test_an_exception_is_one_json_record_with_the_traceback_and_the_request_id(json_logs):
    response = Client(raise_request_exception=False).get("/boom/tok3n-d0n0r/")
    assert response.status_code == 500
    lines = json_logs.all()
    (error,) = [line for line in lines if "exc_type" in line]
    assert error["level"] == "ERROR" and error["logger"] == "django.request" and error["exc_type"] == "RuntimeError"
    assert error["status"] == 500 and error["route"] == "boom"
    assert "Traceback (most recent call last)" in error["traceback"] and "the view broke" in error["traceback"]
    assert error["request_id"] == response["X-Request-ID"]
    (request,) = [line for line in lines if line["event"] == "request"]
    assert request["status"] == 500 and request["request_id"] == response["X-Request-ID"]
    assert len(lines) == 2 and "tok3n" not in json_logs.text()


def test_in_text_format_a_request_writes_no_line_but_has_an_id(demo, settings):
    stream = io.StringIO()
    logging.config.dictConfig(logging_config("INFO", "text"))
    logging.getLogger().handlers[0].setStream(stream)
    try:
        assert len(Client().get("/en/")["X-Request-ID"]) == 16
    finally:
        logging.config.dictConfig(settings.LOGGING)
    assert stream.getvalue() == ""


def test_an_unknown_log_format_is_refused():
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config("INFO", "xml")


def _events(json_logs, *names: str) -> list[dict]:
    """The business events written, without their time, text and request id."""
    lines = [line for line in json_logs.all() if line["logger"] == "zbor.events" and line["event"] in names]
    for line in lines:
        assert line["level"] == "INFO"
        del line["timestamp"], line["message"], line["request_id"], line["level"], line["logger"]
    return lines


def test_a_donation_started_imported_and_succeeded_is_logged_once_with_ids_and_counts_only(
    demo, json_logs, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        pledge, reference = pledge_by_bank(Client())
        import_statement(factories.role_user("finance"), reference)
    pledge.refresh_from_db()
    assert pledge.status == DonationStatus.SUCCEEDED
    prefix = str(pledge.public_id)[:8]
    assert _events(json_logs, "donation.started", "donation.succeeded", "bank_statement.imported") == [
        {"event": "donation.started", "public_id": prefix, "provider": "bank"},
        {"event": "donation.succeeded", "public_id": prefix, "provider": "bank"},
        {
            "event": "bank_statement.imported",
            "lines": 1,
            "new": 1,
            "matched": 1,
            "unmatched": 0,
            "outgoing": 0,
            "review": 0,
        },
    ]
    text = json_logs.text()
    assert "Quillfeather" not in text and "yaryna" not in text and str(pledge.public_id) not in text
    assert not [line for line in json_logs.all() if "amount" in line]


def test_a_campaign_published_and_a_payout_approved_are_logged_once_by_id(
    json_logs, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        campaign = factories.campaign(slug="logged")
        need = Need.objects.filter(campaign=campaign).first()
        record_demo_donation(campaign, amount=50000, need=need)
        finance, finance2 = factories.role_user("finance"), factories.role_user("finance")
        payout = payouts.request_payout(need, amount=100, channel="cash", recipient="Nino", purpose="rent", by=finance)
        payouts.approve_payout(payout, by=finance2)
        payouts.reject_payout(
            payouts.request_payout(need, amount=100, channel="cash", recipient="Nino", purpose="rent", by=finance),
            by=finance2,
            reason="no",
        )
    assert _events(json_logs, "campaign.published", "payout.approved") == [
        {"event": "campaign.published", "campaign_id": campaign.pk},
        {"event": "payout.approved", "payout_id": payout.pk},
    ]
    assert "Nino" not in json_logs.text() and "logged" not in json_logs.text()


def test_a_donation_refused_by_its_check_is_not_logged_as_started(demo, json_logs, django_capture_on_commit_callbacks):
    from zbor.donations import services
    from zbor.donations.exceptions import DonationRefused

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(DonationRefused):
        services.start_donation(
            demo, amount=1000, need=None, provider="bank", idempotency_key="k" * 32, new_donation_check=lambda: "no"
        )
    assert not [line for line in json_logs.all() if line["logger"] == "zbor.events"]


def test_a_receipt_pdf_writes_nothing_to_the_log(demo, json_logs):
    from zbor.donations.receipts import issue_receipt, receipt_pdf

    donation = issue_receipt(record_demo_donation(demo, amount=2500).pk)
    json_logs.stream.truncate(0), json_logs.stream.seek(0)
    assert receipt_pdf(donation).startswith(b"%PDF")
    assert json_logs.all() == []
    assert not logging.getLogger("weasyprint.progress").isEnabledFor(logging.INFO)
    assert not logging.getLogger("fontTools.subset").isEnabledFor(logging.INFO)


WORKER = """
import logging, os, signal
import django
django.setup()
from django.core.management import call_command
from huey.contrib.djhuey import task

@task(name="probe.say")
def say():
    logging.getLogger("zbor.probe").info("the task says hello")
    logging.getLogger("huey.probe").warning("huey warns")
    os.kill(os.getpid(), signal.SIGINT)  # the consumer stops once this task has run
    raise RuntimeError("the task broke")

say()
# No periodic tasks: at a minute divisible by ten they would run too, on this empty database.
call_command("run_huey", workers=1, disable_autoload=True, periodic=False)
"""


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_the_worker_writes_each_line_once(tmp_path, log_format):
    """`zbor run_huey` itself, with the server's logging: a task's lines and huey's own once."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "ZBOR_DATA_DIR": str(tmp_path),
        "LOG_FORMAT": log_format,
        "LOG_LEVEL": "INFO",
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-c", WORKER], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    output = result.stdout + result.stderr
    assert output.count("the task says hello") == 1, output
    assert output.count("huey warns") == 1, output
    assert output.count("Unhandled exception in task") == 1, output
    if log_format == "json":
        lines = [json.loads(line) for line in output.splitlines()]
        (failure,) = [line for line in lines if line.get("exc_type")]
        assert failure["exc_type"] == "RuntimeError" and "the task broke" in failure["traceback"]
