import os

import pytest
from django.core.management import call_command

DEMO = "from-prison-to-family"


@pytest.fixture
def demo(db):
    """The demo data, as `make run` loads it; returns the reference campaign."""
    from zbor.campaigns.models import Campaign

    with open(os.devnull, "w") as quiet:
        call_command("load_demo", stdout=quiet)
    return Campaign.objects.get(slug=DEMO)


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
