"""The error pages in a real browser on a phone: a missing page and a refused form (the
CSRF failure that showed Django's bare English 403) are calm, translated and fit 360 px."""

import os
from pathlib import Path

from tests.browser import needs_chromium
from tests.helpers import CAMPAIGN

pytestmark = needs_chromium


def _shoot(page, tmp_path, name):
    # ZBOR_SCREENSHOTS=<folder> keeps the pictures to look at; by default they go to tmp_path.
    folder = Path(os.environ.get("ZBOR_SCREENSHOTS") or tmp_path)
    page.screenshot(path=str(folder / name), full_page=True)


def _styled(page) -> bool:
    """The site's stylesheet applied: its header has the soft background, not the default."""
    colour = page.evaluate("getComputedStyle(document.querySelector('.site-header')).backgroundColor")
    return colour not in ("rgba(0, 0, 0, 0)", "transparent")


def test_a_missing_page_in_russian_on_a_phone(browser, live_server, campaign, tmp_path):
    page = browser.new_page(java_script_enabled=False, viewport={"width": 360, "height": 740})
    response = page.goto(f"{live_server.url}/ru/campaigns/no-such-campaign/")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "Страница не найдена"
    assert page.get_by_role("link", name="Посмотреть все сборы").count() == 1
    assert _styled(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    _shoot(page, tmp_path, "error-404-ru-360.png")


def test_a_refused_form_in_russian_on_a_phone(browser, live_server, campaign, tmp_path):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})
    page = context.new_page()
    donate = f"{live_server.url}/ru/campaigns/{CAMPAIGN}/donate/"
    page.goto(donate)
    page.check("input[name=method][value=bank]")
    page.fill("input[name=amount]", "25")
    # The cookie the form needs is gone (blocked, or the browser was restarted meanwhile).
    context.clear_cookies()
    with page.expect_navigation() as sent:
        page.click("button[type=submit]")
    assert sent.value.status == 403
    assert page.locator("h1").inner_text() == "Не удалось отправить форму"
    text = page.locator("main").inner_text()
    assert "обновите страницу и отправьте форму ещё раз" in text and "разрешите cookie" in text
    assert "CSRF" not in page.content()
    assert _styled(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    _shoot(page, tmp_path, "error-csrf-ru-360.png")
    # The link back opens the form again.
    page.get_by_role("link", name="Открыть форму снова").click()
    assert page.url == donate
    context.close()
