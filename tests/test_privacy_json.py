"""LOG_FORMAT=json: the whole flow of tests/test_privacy.py (a card payment, a bank pledge matched
by an imported statement naming the payer, words of support, a beneficiary's private details, a
payout, then what goes wrong) with the server's JSON logging. Every record, and every line the
JSON formatter wrote (request lines, business events, tracebacks), is searched for each personal
value; the lines are each one JSON object."""

from __future__ import annotations

import json
import logging.config
import sys

import pytest

from config.settings.logs import logging_config
from tests.privacy_net import find_leaks, handed_back
from tests.test_privacy import (  # noqa: F401 - fixtures
    behind_a_proxy,
    every_log,
    run_the_whole_flow,
    with_stripe_webhooks,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_logging(settings):
    """The server's logging with LOG_FORMAT=json, writing to stderr (captured); Django's own is
    put back afterwards. Set up before `every_log`, which then turns every logger to DEBUG."""
    logging.config.dictConfig(logging_config("INFO", "json"))
    logging.getLogger().handlers[0].setStream(sys.__stderr__)  # file descriptor 2, as the server's
    try:
        yield
    finally:
        logging.config.dictConfig(settings.LOGGING)


@pytest.fixture
def every_json_log(json_logging, every_log):  # noqa: F811
    return every_log


@pytest.mark.usefixtures("with_stripe_webhooks", "behind_a_proxy")
def test_no_personal_data_in_any_json_line(demo, every_json_log, capfd, settings, django_capture_on_commit_callbacks):
    run_the_whole_flow(demo, django_capture_on_commit_callbacks, settings)
    out, err = handed_back(capfd)
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    # The net was open: request lines, business events and Django's warnings were written as JSON.
    # (The payout's approval commits outside a captured on-commit block: tests/test_logs.py has it.)
    written = {(line["logger"], line["event"]) for line in lines}
    assert {
        ("zbor.requests", "request"),
        ("zbor.events", "donation.started"),
        ("zbor.events", "donation.succeeded"),
        ("zbor.events", "bank_statement.imported"),
        ("django.request", "log"),
        ("django.security.csrf", "log"),
    } <= written, written
    assert all(line["request_id"] for line in lines if line["logger"] == "zbor.requests")
    leaks = find_leaks(every_json_log, out, err)
    assert leaks == [], "\n".join(leaks)
