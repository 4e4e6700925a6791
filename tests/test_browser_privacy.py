"""A donor's browser leaks nothing to third parties, and Tor Browser's "safest" level still works.

- With JavaScript on: every request of the public pages and of a whole bank-transfer pledge goes
  to this server (same host and port), and the console reports no Content Security Policy
  violation and the page no script error.
- With JavaScript off (Tor Browser "safest"): every public page, in each language, is readable,
  and a bank-transfer pledge can be made from start to end.
"""

import contextlib
import re
from urllib.parse import urlsplit

from tests.browser import needs_chromium
from tests.helpers import DEMO

pytestmark = needs_chromium

LANGUAGES = ["en", "ru", "be", "pl"]
PUBLIC_PAGES = [
    "/en/",
    "/en/campaigns/",
    f"/en/campaigns/{DEMO}/",
    "/en/transparency/",
    f"/en/campaigns/{DEMO}/donate/",
]
IBAN = "PL61 1090 1014 0000 0712 1981 2874"  # config/settings/test.py
REFERENCE = re.compile(r"^ZB[0-9A-Z]{4}-[0-9A-Z]{5}$")


def pledge_by_bank_transfer(page, base: str) -> str:
    """Fill the donate form as a person does, choose a bank transfer, submit; returns the
    payment reference shown on the status page."""
    page.goto(f"{base}/en/campaigns/{DEMO}/")
    page.get_by_role("link", name="Donate").first.click()  # the summary's; the story and needs have one too
    page.get_by_label("Amount", exact=True).fill("35")
    page.get_by_label("Bank transfer").check()
    with page.expect_navigation(url=re.compile(r"/en/donations/[0-9a-f-]{36}/$")):
        page.get_by_role("button", name="Donate").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Almost done: make the bank transfer"
    assert page.locator(".bank-details").get_by_text(IBAN).is_visible()
    reference = page.locator("code.reference").inner_text().strip()
    assert REFERENCE.match(reference), reference
    return reference


class Watch:
    """Records every request of a browser context, and its pages' console messages and script
    errors; says which requests went to another host or port, and which messages are CSP
    violations (Chromium's "Refused to ... because it violates the following Content Security
    Policy directive", report-only ones included)."""

    def __init__(self, context, base_url: str):
        self.context, self.origin = context, urlsplit(base_url)
        self.requests: list[str] = []
        self.console: list[str] = []
        self.errors: list[str] = []
        context.on("request", lambda request: self.requests.append(request.url))

    def new_page(self):
        page = self.context.new_page()
        page.on("console", lambda message: self.console.append(f"{message.type}: {message.text} {message.location}"))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        return page

    def elsewhere(self) -> list[str]:
        return [
            u
            for u in self.requests
            if (urlsplit(u).scheme, urlsplit(u).netloc) != (self.origin.scheme, self.origin.netloc)
        ]

    def csp_violations(self) -> list[str]:
        return [m for m in self.console if "Content Security Policy" in m]


# Elements that make the browser fetch or connect: some (icons, preconnect, dns-prefetch) do so
# without a request playwright reports, so the page itself is read for them too. Links a
# person may follow (<a href>) are not loads.
RESOURCES = """() => [...document.querySelectorAll(
    "link[href]:not([rel~=canonical]):not([rel~=alternate]), script[src], img[src], img[srcset], source[src], source[srcset], iframe[src], frame[src], "
    + "embed[src], object[data], video[src], video[poster], audio[src], track[src], input[src], form[action]")]
  .flatMap(e => [e.href, e.src, e.action, e.data, e.poster, ...(e.srcset || "").split(",").map(s => s.trim().split(" ")[0])])
  .filter(u => typeof u === "string" && u)
  .map(u => new URL(u, document.baseURI)).filter(u => u.origin !== location.origin).map(u => u.href)"""


def loads_from_elsewhere(page) -> list[str]:
    return page.evaluate(RESOURCES)


def test_with_javascript_every_request_stays_on_this_server_and_no_csp_violation(browser, demo_server):
    context = browser.new_context(java_script_enabled=True)
    watch = Watch(context, demo_server.url)
    page = watch.new_page()
    for path in [*PUBLIC_PAGES, f"/embed/campaigns/{DEMO}/?lang=en"]:
        response = page.goto(demo_server.url + path)  # waits for "load": stylesheets and deferred scripts too
        assert response.status == 200, path
        assert loads_from_elsewhere(page) == [], path
    # The donate page's script (the card payments' proof of work) ran: the CSP let it.
    page.goto(f"{demo_server.url}/en/campaigns/{DEMO}/donate/")
    page.wait_for_selector("form[data-challenge-solved]", state="attached", timeout=5000)
    pledge_by_bank_transfer(page, demo_server.url)
    assert loads_from_elsewhere(page) == []
    page.wait_for_load_state("networkidle")
    context.close()

    assert watch.elsewhere() == [], watch.elsewhere()
    assert any(u.endswith(".css") for u in watch.requests) and any(u.endswith(".js") for u in watch.requests), (
        watch.requests
    )
    assert watch.csp_violations() == [], watch.console
    assert watch.errors == [], watch.errors


def test_the_watch_sees_a_third_party_load_and_a_csp_violation(browser, live_server):
    """The nets above have no hole: a third-party picture added to a page is recorded and
    refused by the CSP, a preconnect hint is found in the page, and a navigation to another
    server is recorded."""
    context = browser.new_context(java_script_enabled=True)
    watch = Watch(context, live_server.url)
    page = watch.new_page()
    page.goto(f"{live_server.url}/en/")
    assert watch.elsewhere() == [] and watch.csp_violations() == []
    page.evaluate("""() => { const img = document.createElement("img");
                              img.src = "http://third-party.invalid/pixel.png"; document.body.append(img); }""")
    page.wait_for_timeout(200)
    assert "http://third-party.invalid/pixel.png" in watch.elsewhere(), watch.requests
    assert any("third-party.invalid" in m for m in watch.csp_violations()), watch.console
    page.evaluate("""() => { const hint = document.createElement("link"); hint.rel = "preconnect";
                              hint.href = "https://fonts.third-party.invalid"; document.head.append(hint); }""")
    assert "https://fonts.third-party.invalid/" in loads_from_elsewhere(page)
    with contextlib.suppress(Exception):  # the connection is refused: only the attempt matters
        page.goto("http://127.0.0.2:9/", timeout=3000)  # another host and port; nothing answers
    context.close()
    assert "http://127.0.0.2:9/" in watch.elsewhere()


def test_tor_safest_every_public_page_is_readable_without_javascript(browser, demo_server):
    context = browser.new_context(java_script_enabled=False)
    watch = Watch(context, demo_server.url)
    page = watch.new_page()
    campaign_pages = [f"/{language}/campaigns/{DEMO}/" for language in LANGUAGES]
    for path in [*PUBLIC_PAGES, *campaign_pages]:
        response = page.goto(demo_server.url + path)
        assert response.status == 200, path
        heading = page.locator("main h1, h1").first
        assert heading.is_visible() and heading.inner_text().strip(), path
        if path in campaign_pages:
            collected = page.locator(".summary-box .progress-text").first
            assert collected.is_visible(), path
            # €683 of €2,000, in each language's own notation ("€683", "683 €", "2 000 €").
            assert re.search(r"683\b", collected.inner_text()) and re.search(
                r"2[\s,.\u00a0\u202f]?000", collected.inner_text()
            ), (path, collected.inner_text())
    # The donate form offers a bank transfer, which needs no script.
    page.goto(f"{demo_server.url}/en/campaigns/{DEMO}/donate/")
    assert page.get_by_label("Bank transfer").is_visible()
    context.close()
    assert watch.elsewhere() == [], watch.elsewhere()


def test_tor_safest_a_bank_transfer_pledge_without_javascript(browser, demo_server):
    from zbor.donations.models import Donation, DonationStatus

    page = browser.new_page(java_script_enabled=False)
    reference = pledge_by_bank_transfer(page, demo_server.url)
    pending = list(Donation.objects.filter(provider="bank", status=DonationStatus.PENDING))
    assert len(pending) == 1
    assert pending[0].amount == 3500 and pending[0].checkout_reference == reference.replace("-", "")
