"""The bank-transfer details after a pledge, in headless Chromium: they fit 320 px, the copy
buttons copy what a banking app takes, and without JavaScript the details are plain text."""

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests import factories
from tests.browser import needs_chromium
from tests.helpers import CAMPAIGN
from zbor.donations.models import Donation
from zbor.payments.bank import format_reference

pytestmark = needs_chromium


def _pledge(page, base: str, language: str = "en") -> None:
    page.goto(f"{base}/{language}/campaigns/{CAMPAIGN}/donate/")
    page.fill("#id_amount", "25")
    page.check("input[name=method][value=bank]")
    page.locator("form.donate-form button[type=submit]").click()
    page.wait_for_url("**/donations/**")


@pytest.mark.django_db(transaction=True)
def test_the_details_fit_a_phone_and_copy_buttons_copy(browser, live_server):
    factories.campaign(slug=CAMPAIGN)
    shots = Path(os.environ.get("ZBOR_SCREENSHOTS", "/tmp/zbor-bank-shots"))
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 360, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    hosts = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname))
    _pledge(page, live_server.url)
    reference = format_reference(Donation.objects.get(provider="bank").checkout_reference)
    assert page.locator(".epc svg").count() == 1
    page.screenshot(path=str(shots / "bank-details-360.png"), full_page=True)
    page.set_viewport_size({"width": 320, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert page.locator("button[data-copy]").count() == 5 and page.locator("button[data-print]").is_visible()
    page.locator("#bank-reference-copy").click()
    assert page.evaluate("navigator.clipboard.readText()") == reference
    assert page.locator("#bank-reference-copy").inner_text() == "Copied"
    page.locator("#bank-iban-copy").click()
    assert page.evaluate("navigator.clipboard.readText()") == "PL61109010140000071219812874"
    page.locator("#bank-amount-copy").click()
    assert page.evaluate("navigator.clipboard.readText()") == "25.00"
    assert hosts == {urlsplit(live_server.url).hostname}, hosts
    context.close()


@pytest.mark.django_db(transaction=True)
def test_without_javascript_the_details_are_text_and_no_button_is_dead(browser, live_server):
    factories.campaign(slug=CAMPAIGN)
    context = browser.new_context(viewport={"width": 320, "height": 900}, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/ru/campaigns/{CAMPAIGN}/donate/")
    page.fill("#id_amount", "25")
    page.check("input[name=method][value=bank]")
    page.locator("form.donate-form button[type=submit]").click()
    page.wait_for_url("**/donations/**")
    reference = format_reference(Donation.objects.get(provider="bank").checkout_reference)
    assert page.locator("#bank-reference").inner_text() == reference
    assert (
        page.locator("button[data-copy]:visible").count() == 0 and not page.locator("button[data-print]").is_visible()
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    context.close()
