"""The restore drill's sign-in in headless Chromium: production's Secure cookies and CSRF check
over plain http://localhost, as through the SSH tunnel of docs/deploy.md ("Restore drill")."""

import pytest

from tests import factories
from tests.browser import needs_chromium
from zbor.ops.tests.test_drill_signin import LOGIN, drill_settings  # noqa: F401 - the fixture

pytestmark = needs_chromium


@pytest.mark.django_db(transaction=True)
def test_a_real_browser_signs_in_over_plain_http_to_localhost(drill_settings, browser, live_server):  # noqa: F811
    factories.role_user("finance", "drillbrowser")
    base = live_server.url.replace("127.0.0.1", "localhost")
    page = browser.new_page()
    page.goto(f"{base}{LOGIN}")
    page.fill("#id_username", "drillbrowser")
    page.fill("#id_password", "correct horse battery")
    page.click("input[type=submit]")
    assert "/login/" not in page.url and page.url.startswith(f"{base}/backoffice/")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["sessionid"]["secure"] and cookies["csrftoken"]["secure"]
