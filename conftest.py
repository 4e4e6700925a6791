"""Shared pytest set-up.

With ZBOR_FAIL_ON_SKIP=1 (set by .ci/run) a skipped test fails: CI must run every test,
including those that need PostgreSQL, Redis or Chromium.
"""

import os

import pytest


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
    """Each test starts with an empty cache and English active, whatever the last request chose."""
    from django.core.cache import cache
    from django.utils import translation

    cache.clear()
    with translation.override("en"):
        yield
