"""Managing a monthly gift in a real browser on a phone, without JavaScript: ask for the link,
open it from the mail, change the amount, pause, and stop in two clicks (issue 18)."""

import os
import re
from pathlib import Path

from django.core import mail

from tests import factories
from tests.browser import needs_chromium
from zbor.donations.models import MonthlyGift, MonthlyStatus

pytestmark = needs_chromium

EMAIL = "browser.monthly@example.org"


def _shoot(page, tmp_path, name):
    # ZBOR_SCREENSHOTS=<folder> keeps the pictures to look at; by default they go to tmp_path.
    folder = Path(os.environ.get("ZBOR_SCREENSHOTS") or tmp_path)
    page.screenshot(path=str(folder / name), full_page=True)


def _fits(page, width=360) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= width


def test_a_donor_manages_and_stops_a_monthly_gift_on_a_phone(browser, live_server, campaign, tmp_path):
    gift = factories.monthly_gift(campaign, email=EMAIL)
    fund_gift = factories.monthly_gift(campaign, email=EMAIL, provider="bank", amount=2500)
    page = browser.new_page(java_script_enabled=False, viewport={"width": 360, "height": 740})
    page.goto(f"{live_server.url}/en/")
    page.get_by_role("link", name="Manage my monthly gift").click()
    assert page.locator("h1").inner_text() == "Manage my monthly gift"
    _shoot(page, tmp_path, "monthly-manage-ask-en-360.png")
    page.get_by_label("Your email").fill(EMAIL)
    page.get_by_role("button", name="Email me a link").click()
    assert "If this address gives monthly, a link is on its way." in page.content()
    assert _fits(page)

    link = re.search(r"https?://\S+/en/monthly/manage/\S+/", mail.outbox[-1].body).group(0)
    page.goto(link)
    assert page.locator("h1").inner_text() == "Your monthly gifts"
    assert page.locator("section.monthly-gift").count() == 2
    assert _fits(page)
    _shoot(page, tmp_path, "monthly-manage-gifts-en-360.png")

    first = page.locator("section.monthly-gift").first
    first.get_by_label("New amount every month").fill("15")
    first.get_by_role("button", name="Change the amount").click()
    assert "From the next month on, you give €15 a month." in page.content()
    page.locator("section.monthly-gift").first.get_by_role("button", name="Pause").click()
    gift.refresh_from_db()
    assert (gift.amount, gift.status) == (1500, MonthlyStatus.PAUSED)

    page.locator("section.monthly-gift").first.get_by_role("link", name="Stop this monthly gift").click()
    assert page.locator("h1").inner_text() == "Stop your monthly gift?"
    _shoot(page, tmp_path, "monthly-manage-stop-en-360.png")
    gift.refresh_from_db()
    assert gift.status == MonthlyStatus.PAUSED  # the first click only asks
    page.get_by_role("button", name="Yes, stop my monthly gift").click()
    assert page.locator("h1").inner_text() == "Your monthly gift has stopped"
    _shoot(page, tmp_path, "monthly-manage-stopped-en-360.png")
    gift.refresh_from_db()
    assert (gift.status, gift.email) == (MonthlyStatus.STOPPED, "")
    page.get_by_role("link", name="Your other monthly gifts").click()
    assert page.locator("section.monthly-gift").count() == 1
    assert MonthlyGift.objects.get(pk=fund_gift.pk).status == MonthlyStatus.ACTIVE


def test_the_list_in_belarusian_on_a_desktop(browser, live_server, campaign, tmp_path):
    factories.monthly_gift(campaign, email=EMAIL, status=MonthlyStatus.PAUSED)
    page = browser.new_page(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/be/monthly/")
    page.locator("input[name=email]").fill(EMAIL)
    page.locator("form.manage-form button").click()
    link = re.search(r"https?://\S+/be/monthly/manage/\S+/", mail.outbox[-1].body).group(0)
    page.goto(link)
    assert page.locator("h1").inner_text() == "Вашы штомесячныя ахвяраванні"
    assert page.get_by_role("button", name="Аднавіць").count() == 1
    _shoot(page, tmp_path, "monthly-manage-gifts-be-1280.png")
