"""The two-factor set-up page in headless Chromium: fits 320 px, loads nothing from elsewhere."""

import base64
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django_otp.oath import totp

from tests.browser import needs_chromium
from zbor.accounts import enrolment
from zbor.accounts.tests.test_enrolment import admin, new_staff

pytestmark = needs_chromium


@pytest.mark.django_db(transaction=True)
def test_the_enrolment_page_in_a_real_browser_fits_320_px_and_loads_nothing_from_elsewhere(browser, live_server):
    """Open a link in Chromium, read the key off the page, confirm a code, see the recovery codes."""
    shots = Path(os.environ.get("ZBOR_SCREENSHOTS", "/tmp/zbor-enrol-shots"))
    shots.mkdir(parents=True, exist_ok=True)
    user = new_staff("browser2fa")
    token = enrolment.create_link(admin(), user)
    hosts = set()
    page = browser.new_page(viewport={"width": 320, "height": 800})
    page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname))
    page.goto(f"{live_server.url}/backoffice/enrol/{token}/")
    assert urlsplit(page.url).path == "/backoffice/enrol/"  # the secret left the address bar
    assert page.locator(".zbor-enrol-qr svg").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.screenshot(path=str(shots / "enrol-320.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(shots / "enrol-1280.png"), full_page=True)
    secret = page.locator(".zbor-enrol-secret code").inner_text().replace(" ", "").strip()
    key = base64.b32decode(secret)
    page.fill("#id_new_password1", "a long new passphrase 7")
    page.fill("#id_new_password2", "a long new passphrase 7")
    page.fill("#id_otp_token", f"{totp(key):06d}")
    page.click("input[type=submit]")
    assert page.locator(".zbor-enrol-codes li").count() == enrolment.RECOVERY_CODES
    page.screenshot(path=str(shots / "enrol-done-1280.png"), full_page=True)
    page.set_viewport_size({"width": 320, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320  # codes of 19 characters fit
    page.screenshot(path=str(shots / "enrol-done-320.png"), full_page=True)
    assert hosts == {urlsplit(live_server.url).hostname}, hosts
