"""A donor's browser: headless Chromium (Debian's) driven by playwright against a live server."""

import re
from urllib.parse import urlsplit

from tests.browser import needs_chromium

pytestmark = needs_chromium


def test_campaign_page_shows_collected_and_loads_nothing_from_elsewhere(browser, demo_server, tmp_path):
    hosts = set()
    page = browser.new_page(java_script_enabled=False, viewport={"width": 320, "height": 800})
    page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname))
    response = page.goto(f"{demo_server.url}/en/campaigns/from-prison-to-family/")
    assert response.status == 200
    collected = page.locator(".summary-box .progress-text").inner_text()
    assert re.sub(r"\s+", " ", collected) == "Collected: €683 of €2,000"
    assert page.locator("progress").first.get_attribute("value") == "68300"
    assert page.get_by_role("complementary", name=re.compile("Zbor Foundation note")).count() == 1
    page.screenshot(path=str(tmp_path / "campaign-320.png"), full_page=True)

    page.goto(f"{demo_server.url}/ru/campaigns/from-prison-to-family/")
    page.goto(f"{demo_server.url}/pl/campaigns/")
    assert hosts == {urlsplit(demo_server.url).hostname}, hosts


def test_layout_fits_a_320_pixel_screen(browser, demo_server):
    page = browser.new_page(viewport={"width": 320, "height": 800})
    for path in [
        "/en/",
        "/en/campaigns/",
        "/ru/campaigns/from-prison-to-family/",
        "/be/campaigns/from-prison-to-family/donate/",
        "/pl/transparency/",
        "/ru/campaigns/lawyer-for-an-appeal/",
        "/embed/campaigns/from-prison-to-family/?lang=be",
    ]:
        page.goto(demo_server.url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, path


def test_staff_sign_in_through_the_real_form_and_open_the_campaign_admin(browser, demo_server, settings):
    """A real browser posts the admin login form (CSRF, Origin and Referrer-Policy together)."""
    page = browser.new_page()
    page.goto(f"{demo_server.url}/{settings.ZBOR_ADMIN_PATH}login/")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "zbor-demo-only")
    page.click("input[type=submit]")
    page.goto(f"{demo_server.url}/{settings.ZBOR_ADMIN_PATH}campaigns/campaign/")
    assert page.locator("#result_list").count() == 1
    assert page.get_by_role("link", name=re.compile("From prison to family")).count() == 1


def test_a_donor_gives_25_by_card_the_page_answers_the_bot_check_and_the_total_is_708(browser, demo_server):
    hosts, csp_errors = set(), []
    page = browser.new_page()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname))
    page.on(
        "console",
        lambda message: csp_errors.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.goto(f"{demo_server.url}/en/campaigns/from-prison-to-family/")
    page.get_by_role("link", name="Donate").first.click()  # the summary's; the story and needs have one too
    page.get_by_label("Amount", exact=True).fill("25")
    page.select_option("#id_need", index=2)  # the second need: warm clothes
    page.get_by_label("Test payment (demo)").check()
    page.get_by_role("button", name="Donate").click()  # waits for the proof of work if it is not done yet
    page.wait_for_url("**/test-checkout/**")
    assert "TEST MODE" in page.content()
    page.get_by_role("button", name="Complete test payment").click()
    assert page.get_by_role("heading", name="Thank you").count() == 1
    page.get_by_role("link", name="Back to the campaign").click()
    # A public page may be kept by the browser for ZBOR_PAGE_CACHE_SECONDS (one second): this
    # headless donor is back on it within about one second of the first visit, and may be shown
    # that copy. A reload asks the server, which renders the page afresh for the browser that
    # just gave (its signed cookie), as any later look at the page would.
    page.wait_for_url("**/campaigns/from-prison-to-family/")
    page.reload()
    collected = re.sub(r"\s+", " ", page.locator(".summary-box .progress-text").inner_text())
    assert collected == "Collected: €708 of €2,000"
    needs = [re.sub(r"\s+", " ", t) for t in page.locator(".need .progress-text").all_inner_texts()]
    assert needs[1] == "Collected: €208 of €500"
    assert hosts == {urlsplit(demo_server.url).hostname}
    assert csp_errors == []


def test_without_javascript_a_card_payment_is_refused_with_a_way_out(browser, demo_server):
    page = browser.new_page(java_script_enabled=False)
    page.goto(f"{demo_server.url}/en/campaigns/from-prison-to-family/donate/")
    assert page.get_by_text("Card payments need JavaScript").is_visible()  # the <noscript> note
    page.get_by_label("Amount", exact=True).fill("25")
    page.get_by_label("Test payment (demo)").check()
    page.get_by_role("button", name="Donate").click()
    # Said at the top of the form, where the page opens, with a link to the ways to pay, and
    # again next to them.
    summary = page.locator(".error-summary")
    assert summary.get_by_role(
        "link", name=re.compile("or choose a bank transfer, which works without it")
    ).is_visible()
    assert summary.bounding_box()["y"] < page.viewport_size["height"]
    assert page.locator("#method-error").get_by_text("or choose a bank transfer, which works without it").is_visible()
    summary.get_by_role("link").click()
    assert page.url.endswith("#id_method_0")


def test_the_bot_check_is_worked_out_in_a_worker_and_its_answer_holds(browser, demo_server):
    """Lighthouse (make quality) counted the proof of work as the donate page's blocking time
    on a phone: it runs in a worker started from the same script, off the page's own thread."""
    from zbor import challenge

    page = browser.new_page()
    with page.expect_worker() as started:
        page.goto(f"{demo_server.url}/en/campaigns/from-prison-to-family/donate/")
    assert started.value.url.endswith("/static/zbor/challenge.js")
    page.wait_for_selector("form[data-challenge-solved]", state="attached", timeout=10000)
    assert challenge.verify(page.input_value("#id_challenge"))
