"""Shared pytest set-up, for tests/ and zbor/*/tests/ alike (helpers to import are in tests/:
helpers.py, factories.py, fake_stripe.py, browser.py, postgres.py).

With ZBOR_FAIL_ON_SKIP=1 (set by .ci/run) a skipped test fails: CI must run every test,
including those that need PostgreSQL, Redis or Chromium.
"""

import os

import pytest
from django.core.management import call_command

from tests.helpers import CAMPAIGN, DEMO

# The ``btcpay`` fixture: a local fake BTCPay Server, with Zbor configured for it.
pytest_plugins = ["tests.fake_btcpay"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("ZBOR_FAIL_ON_SKIP") == "1" and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"Skipped, but ZBOR_FAIL_ON_SKIP=1 requires every test to run: {reason}"


@pytest.fixture(autouse=True)
def _fresh_state():
    """Each test starts with empty caches and English active, whatever the last request chose."""
    from django.core.cache import cache
    from django.utils import translation

    from zbor.donations.selectors import DONOR_COUNTS
    from zbor.donations.services.monthly import SUPPORTER_COUNTS
    from zbor.site.donate_views import CONTEXTS

    cache.clear()
    CONTEXTS.clear()
    DONOR_COUNTS.clear()
    SUPPORTER_COUNTS.clear()
    with translation.override("en"):
        yield


@pytest.fixture(scope="session", autouse=True)
def _ledger_rows_may_be_flushed_between_tests():
    """Let Django empty the throw-away test database between transactional tests.

    Append-only tables (zbor/append_only.py) refuse DELETE and TRUNCATE unless
    ``append_only_maintenance`` has a row. Tests that use the live server or real transactions end
    with Django flushing every table, so this opens that door for the flush alone.
    """
    from django.db import connections
    from django.test import TransactionTestCase

    original = TransactionTestCase._fixture_teardown

    def teardown(self):
        for alias in self._databases_names(include_mirrors=False):
            with connections[alias].cursor() as cursor:
                cursor.execute("INSERT INTO append_only_maintenance (reason) VALUES ('test flush')")
        try:
            original(self)
        finally:
            for alias in self._databases_names(include_mirrors=False):
                with connections[alias].cursor() as cursor:
                    cursor.execute("DELETE FROM append_only_maintenance")

    TransactionTestCase._fixture_teardown = teardown
    yield
    TransactionTestCase._fixture_teardown = original


@pytest.fixture
def demo(db):
    """The demo data, as `make run` loads it; returns the reference campaign."""
    from zbor.campaigns.models import Campaign

    with open(os.devnull, "w") as quiet:
        call_command("load_demo", stdout=quiet)
    return Campaign.objects.get(slug=DEMO)


@pytest.fixture
def campaign(db):
    """One published campaign (three needs, no donations) built by tests/factories.py: what most
    tests need, in a tenth of the time the demo takes. Its slug is tests.helpers.CAMPAIGN."""
    from tests import factories

    return factories.campaign(slug=CAMPAIGN)


@pytest.fixture
def funded_campaign(db):
    """The `campaign`, with the demo's reference campaign's totals: €683 collected of €2,000, the
    first need (€500) full. For tests of giving and paying out that read those totals."""
    from tests import factories

    return factories.campaign(slug=CAMPAIGN, donations=(50000, 18300))


@pytest.fixture
def browser():
    """Headless Chromium (tests/browser.py); a module using it sets ``pytestmark = needs_chromium``."""
    from django.db import connections

    from tests.browser import CHROMIUM, LAUNCH_ARGS, sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the
    # fixtures around it are plain synchronous calls, so Django's async guard can stand down.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()
        # Code run inside playwright's context gets its own database connections (Django keys
        # them by context); close them here or PostgreSQL keeps them open past the test.
        connections.close_all()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def demo_server(live_server):
    """A live server with the demo data loaded."""
    with open(os.devnull, "w") as quiet:
        call_command("load_demo", stdout=quiet)
    return live_server
