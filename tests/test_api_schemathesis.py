"""Schemathesis drives the public API from its own OpenAPI document: no input makes a server
error, and every answer matches the schema."""

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

# The public endpoints; the staff API (tokens, uploads) has its own tests in test_api.py.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application()).include(
    path_regex=r"^/api/v1/(campaigns|totals)"
)


@pytest.fixture
def demo_data(db):
    # Schemathesis calls the WSGI app directly: like Django's test client, keep the test's
    # connection (and its transaction) open across requests instead of closing it after each.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    with open("/dev/null", "w") as quiet:
        call_command("load_demo", stdout=quiet)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_holds_to_its_schema_for_any_input(case, demo_data):
    case.call_and_validate()
