"""Issue 19's done-when, in headless Chromium: with ZBOR_PAYMENT_PROVIDERS=btcpay,bank and the local
fake BTCPay Server (tests/fake_btcpay.py), a donor gives €25 by Bitcoin with JavaScript (through
BTCPay's checkout page and back) and without it (Zbor's own page: address, BTC amount, QR code);
BTCPay settles, its signed webhook reaches the live server, the campaign page shows the €25
within the freshness bound, and `zbor reconcile --btcpay` finds nothing to say. An underpaid
invoice lands in finance's review queue.

Screenshots of the donate form and the payment page, at 390 and 1280 pixels, are written to
$ZBOR_SCREENSHOTS (default /tmp/zbor-btcpay-shots) for a person to look at."""

import io
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import Client

from tests import factories
from tests.browser import needs_chromium
from tests.helpers import CAMPAIGN
from zbor.donations.models import Donation, DonationStatus
from zbor.ledger.models import TransferGroup
from zbor.payments.models import EventStatus, PaymentEventRecord

pytestmark = [*needs_chromium, pytest.mark.django_db(transaction=True)]

FORM = f"/en/campaigns/{CAMPAIGN}/donate/"
PAGE = f"/en/campaigns/{CAMPAIGN}/"
SHOTS = Path(os.environ.get("ZBOR_SCREENSHOTS", "/tmp/zbor-btcpay-shots"))


def _shoot(page, name: str) -> None:
    """The page at a phone's width and a laptop's, whole; nothing wider than the screen, even
    the smallest phone's."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 320, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320, (name, 320)
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 900})


def _choose_bitcoin(page, base: str) -> None:
    page.goto(base + FORM)
    page.get_by_label("Amount", exact=True).fill("25")
    page.get_by_label("Bitcoin").check()


def _forget_counts():
    """The campaign page is read at most once per freshness bound (ZBOR_PAGE_CACHE_SECONDS); a
    visitor sees a new donation within it. The test does not wait: it forgets what was read."""
    from django.core.cache import cache

    from zbor.donations.selectors import DONOR_COUNTS
    from zbor.site.donate_views import CONTEXTS

    cache.clear()
    CONTEXTS.clear()
    DONOR_COUNTS.clear()


def _collected(browser, base: str) -> str:
    """What a new visitor (no cookie, nothing kept) reads on the campaign page."""
    _forget_counts()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(base + PAGE)
    text = re.sub(r"\s+", " ", page.locator(".summary-box .progress-text").inner_text())
    context.close()
    return text


def _settle_and_tell(btcpay, base: str) -> Donation:
    """BTCPay sees the whole amount, it confirms, and BTCPay posts its signed webhook."""
    invoice = btcpay.only_invoice()
    btcpay.pay(invoice)
    btcpay.settle(invoice)
    assert btcpay.deliver(f"{base}/webhooks/btcpay/", invoice, "InvoiceSettled") == 200
    donation = Donation.objects.get(checkout_reference=invoice)
    assert (donation.status, donation.amount, donation.currency) == (DonationStatus.SUCCEEDED, 2500, "EUR")
    assert TransferGroup.objects.filter(key=f"{donation.reference}:succeeded").count() == 1
    return donation


def _reconcile_is_clean() -> None:
    out = io.StringIO()
    call_command("reconcile", "--btcpay", stdout=out)  # exits 1 (SystemExit) on any difference
    assert "BTCPay settled invoices checked: 1" in out.getvalue(), out.getvalue()
    assert "clean: no differences" in out.getvalue(), out.getvalue()


def test_25_euro_by_bitcoin_with_javascript_through_btcpays_checkout(browser, live_server, btcpay):
    factories.campaign(slug=CAMPAIGN)
    hosts = set()
    page = browser.new_page(viewport={"width": 390, "height": 900})
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    _choose_bitcoin(page, live_server.url)
    assert page.get_by_text("Send it from a wallet that is not tied to your name").is_visible()
    page.get_by_text("What a Bitcoin payment reveals").click()
    assert page.get_by_text("can be made to hand them over").is_visible()
    _shoot(page, "donate-form")
    # Monthly: Bitcoin, already chosen, stays in sight, and its note says why it cannot be.
    page.get_by_label("Monthly", exact=True).check()
    assert page.get_by_text("Bitcoin takes one-off gifts only").is_visible()
    _shoot(page, "donate-form-monthly")
    page.get_by_label("Once", exact=True).check()
    assert not page.get_by_text("Bitcoin takes one-off gifts only").is_visible()
    # The Bitcoin help is for Bitcoin: another way to pay chosen, it steps aside.
    page.get_by_label("Bank transfer").check()
    assert not page.get_by_text("What a Bitcoin payment reveals").is_visible()
    page.get_by_label("Bitcoin").check()

    page.get_by_role("button", name="Donate").click()
    page.wait_for_url(f"{btcpay.url}/i/**")
    assert page.locator("#coin").inner_text() == "0.00041667 BTC"
    _settle_and_tell(btcpay, live_server.url)
    page.locator("#return").click()  # BTCPay's "Return to store" (it redirects by itself too)
    page.wait_for_url("**/donations/**")
    assert page.get_by_role("heading", name="Thank you").is_visible()
    assert page.get_by_text("Your donation of €25 has arrived.").is_visible()
    # Zbor's pages load nothing from BTCPay: only the checkout itself is there.
    assert hosts == {urlsplit(live_server.url).netloc, urlsplit(btcpay.url).netloc}

    assert _collected(browser, live_server.url) == "Collected: €25 of €2,000"
    _reconcile_is_clean()


def test_25_euro_by_bitcoin_without_javascript_on_zbors_own_page(browser, live_server, btcpay):
    factories.campaign(slug=CAMPAIGN)
    context = browser.new_context(viewport={"width": 390, "height": 900}, java_script_enabled=False)
    page = context.new_page()
    hosts = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    _choose_bitcoin(page, live_server.url)
    page.get_by_role("button", name="Donate").click()
    page.wait_for_url("**/donations/**")
    invoice = btcpay.invoices[btcpay.only_invoice()]
    assert page.get_by_role("heading", name="Almost done: send the Bitcoin").is_visible()
    assert page.locator("#coin-amount").inner_text() == "0.00041667 BTC"
    assert page.locator("#coin-address").inner_text() == invoice["address"]
    assert page.get_by_role("img", name="QR code for your Bitcoin wallet").is_visible()
    assert page.locator("button[data-copy]:visible").count() == 0  # no dead buttons without JavaScript
    assert page.get_by_text("Reload this page to see whether your payment arrived.").is_visible()
    _shoot(page, "payment-page")
    page.get_by_text("Or pay with Lightning").click()  # <details>: opens without JavaScript
    assert page.get_by_role("img", name="QR code of the Lightning invoice").is_visible()
    assert page.locator("#coin-lightning").inner_text() == invoice["bolt11"]
    _shoot(page, "payment-page-lightning")

    _settle_and_tell(btcpay, live_server.url)
    page.reload()
    assert page.get_by_role("heading", name="Thank you").is_visible()
    assert hosts == {urlsplit(live_server.url).netloc}  # nothing from BTCPay, nothing from elsewhere
    context.close()

    assert _collected(browser, live_server.url) == "Collected: €25 of €2,000"
    _reconcile_is_clean()


def test_with_javascript_the_copy_buttons_copy_the_amount_and_the_address(browser, live_server, btcpay):
    factories.campaign(slug=CAMPAIGN)
    context = browser.new_context(viewport={"width": 390, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    _choose_bitcoin(page, live_server.url)
    page.get_by_role("button", name="Donate").click()
    page.wait_for_url(f"{btcpay.url}/i/**")
    donation = Donation.objects.get()
    page.goto(f"{live_server.url}/en/donations/{donation.public_id}/")  # "back" without paying
    page.locator("#coin-amount-copy").click()
    assert page.evaluate("navigator.clipboard.readText()") == "0.00041667"
    page.locator("#coin-address-copy").click()
    assert page.evaluate("navigator.clipboard.readText()") == btcpay.invoices[donation.checkout_reference]["address"]
    _shoot(page, "payment-page-js")
    context.close()


def test_an_underpaid_invoice_lands_in_finances_review_queue(live_server, btcpay):
    factories.campaign(slug=CAMPAIGN)
    client = Client()
    client.post(FORM, {"amount": "25", "method": "btcpay", "idempotency_key": "u" * 24, "nojs": "1"})
    donation = Donation.objects.get()
    invoice = btcpay.only_invoice()
    btcpay.pay(invoice, "0.0002")  # about half
    btcpay.settle(invoice)
    btcpay.expire(invoice)
    assert btcpay.deliver(f"{live_server.url}/webhooks/btcpay/", invoice, "InvoiceExpired") == 200
    [event] = PaymentEventRecord.objects.filter(provider="btcpay")
    assert event.status == EventStatus.REVIEW
    assert event.data["amount"] == 1200  # 0.0002 BTC at €60,000
    donation.refresh_from_db()
    assert donation.status != DonationStatus.SUCCEEDED
    assert not TransferGroup.objects.filter(key=f"{donation.reference}:succeeded").exists()
