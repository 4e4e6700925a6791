"""Giving Bitcoin through the foundation's BTCPay Server, from the donor's side (issue 19): the
donate form offers it for one-off gifts with honest help, a browser without JavaScript is sent
to Zbor's own payment page (address, exact amount, QR codes), and that page stays calm when
BTCPay does not answer. Against the local fake BTCPay Server (tests/fake_btcpay.py)."""

import re

import pytest
from django.test import Client

from tests import factories
from zbor.donations.models import Donation, DonationStatus
from zbor.site import bitcoin_views

pytestmark = pytest.mark.django_db

FORM = "/en/campaigns/bitcoin-page/donate/"


@pytest.fixture
def campaign(btcpay):
    bitcoin_views.METHODS.clear()
    return factories.campaign(slug="bitcoin-page")


@pytest.fixture
def later(monkeypatch):
    """Moves the clock the page's kept payment methods are measured on (``METHODS``)."""
    now = [bitcoin_views.METHODS.clock()]
    monkeypatch.setattr(bitcoin_views.METHODS, "clock", lambda: now[0])

    def move(seconds: float) -> None:
        now[0] += seconds

    return move


def _give(client: Client, *, nojs: bool, frequency: str = "once", **fields):
    data = {"frequency": frequency, "amount": "25", "method": "btcpay", "idempotency_key": "k" * 24, **fields}
    if nojs:
        data["nojs"] = "1"
    return client.post(FORM, data)


def _status(client: Client, donation: Donation) -> str:
    page = client.get(f"/en/donations/{donation.public_id}/")
    assert page.status_code == 200
    return page.content.decode()


def test_the_form_offers_bitcoin_for_one_off_gifts_with_what_it_reveals(campaign):
    html = Client().get(FORM).content.decode()
    assert re.search(r'<label class="choice once-method"><input type="radio" name="method" value="btcpay"', html)
    assert '<label class="choice"><input type="radio" name="method" value="bank"' in html  # takes monthly gifts
    assert "Bitcoin takes one-off gifts only" in html
    assert "<summary>What a Bitcoin payment reveals</summary>" in html
    assert "not straight from an exchange account in your name" in html
    assert '<noscript><input type="hidden" name="nojs" value="1"></noscript>' in html


def test_a_monthly_gift_by_bitcoin_is_refused_with_the_reason(campaign):
    page = _give(Client(), nojs=True, frequency="monthly", email="m@example.org")
    assert page.status_code == 400
    assert "This payment method does not take monthly gifts." in page.content.decode()
    assert not Donation.objects.exists()


def test_with_javascript_the_donor_goes_to_btcpays_checkout(campaign, btcpay):
    page = _give(Client(), nojs=False)
    invoice = btcpay.only_invoice()
    assert page.status_code == 302 and page["Location"] == f"{btcpay.url}/i/{invoice}"
    assert Donation.objects.get().checkout_reference == invoice


def test_without_javascript_zbors_page_shows_the_address_the_amount_and_the_qr_codes(campaign, btcpay):
    client = Client()
    page = _give(client, nojs=True)
    donation = Donation.objects.get()
    assert page.status_code == 302 and page["Location"] == f"/en/donations/{donation.public_id}/"
    invoice = btcpay.invoices[btcpay.only_invoice()]
    html = _status(client, donation)
    assert "Almost done: send the Bitcoin" in html
    assert "send exactly <strong>0.00041667 BTC</strong>" in html  # €25 at €60,000
    assert f'<code id="coin-address">{invoice["address"]}</code>' in html
    assert f'<code id="coin-lightning">{invoice["bolt11"]}</code>' in html
    assert html.count("<svg ") == 2 and 'aria-label="QR code for your Bitcoin wallet"' in html
    assert f'href="bitcoin:{invoice["address"]}?amount=0.00041667"' in html
    assert f'href="lightning:{invoice["bolt11"]}"' in html
    assert f'href="{btcpay.url}/i/{donation.checkout_reference}"' in html
    assert "1 BTC = €60,000" in html
    assert "Reload this page to see whether your payment arrived." in html
    assert "What a Bitcoin payment reveals" in html
    assert "zbor/copy.js" in html


def test_a_part_paid_invoice_asks_for_the_rest_and_a_paid_one_for_patience(campaign, btcpay, later):
    client = Client()
    _give(client, nojs=True)
    donation, invoice = Donation.objects.get(), btcpay.only_invoice()
    btcpay.pay(invoice, "0.0002")
    html = _status(client, donation)
    assert "0.00020000 BTC has arrived so far" in html
    assert "send exactly <strong>0.00021667 BTC</strong>" in html
    btcpay.pay(invoice)
    later(bitcoin_views.METHODS_SECONDS + 1)
    html = _status(client, donation)
    assert "Your Bitcoin has arrived" in html and "<svg " not in html and 'id="coin-address"' not in html


def test_when_btcpay_does_not_answer_the_page_says_so_calmly(campaign, btcpay, caplog):
    client = Client()
    _give(client, nojs=True)
    donation = Donation.objects.get()
    btcpay.fail_next = 1
    html = _status(client, donation)
    assert "The foundation's Bitcoin server is not answering just now" in html
    assert "<svg " not in html
    assert donation.checkout_reference not in caplog.text  # the log names no invoice


def test_when_btcpay_is_not_there_at_all_the_page_still_answers(campaign, btcpay, settings):
    from zbor.payments import registry

    client = Client()
    _give(client, nojs=True)
    settings.BTCPAY_URL = "http://127.0.0.1:9"  # discard: nothing listens there
    registry._providers.cache_clear()
    assert "is not answering just now" in _status(client, Donation.objects.get())


def _webhook(client: Client, btcpay, invoice: str, kind: str, **flags):
    """BTCPay's signed webhook, posted to Zbor's /webhooks/btcpay/."""
    body, headers = btcpay.webhook(invoice, kind, **flags)
    answer = Client().post("/webhooks/btcpay/", body, content_type="application/json", headers=headers)
    assert answer.status_code == 200


def test_settled_the_page_thanks_the_donor(campaign, btcpay):
    client = Client()
    _give(client, nojs=True)
    donation, invoice = Donation.objects.get(), btcpay.only_invoice()
    btcpay.pay(invoice)
    btcpay.settle(invoice)
    _webhook(client, btcpay, invoice, "InvoiceSettled")
    donation.refresh_from_db()
    assert donation.status == DonationStatus.SUCCEEDED and donation.amount == 2500
    html = _status(client, donation)
    assert "Thank you" in html and "€25" in html and "<svg " not in html
    calls = len(btcpay.requests)
    _status(client, donation)
    assert len(btcpay.requests) == calls  # a settled donation asks BTCPay nothing


def test_expired_the_page_says_it_did_not_go_through(campaign, btcpay):
    client = Client()
    _give(client, nojs=True)
    donation, invoice = Donation.objects.get(), btcpay.only_invoice()
    btcpay.expire(invoice)
    _webhook(client, btcpay, invoice, "InvoiceExpired")
    donation.refresh_from_db()
    assert donation.status == DonationStatus.EXPIRED
    html = _status(client, donation)
    assert "The payment did not go through" in html and "Try again" in html


def test_a_store_without_lightning_shows_the_address_alone(campaign, btcpay):
    btcpay.lightning = False
    client = Client()
    _give(client, nojs=True)
    html = _status(client, Donation.objects.get())
    assert html.count("<svg ") == 1 and 'id="coin-address"' in html
    assert "Or pay with Lightning" not in html


def test_an_invoice_with_nothing_to_pay_yet_asks_the_donor_to_come_back(campaign, btcpay):
    client = Client()
    _give(client, nojs=True)
    # An invoice whose address BTCPay has not made yet (lazy payment methods, made before Zbor
    # asked for them at once): nothing to show but a way back.
    btcpay.invoices[btcpay.only_invoice()]["lazy"] = True
    html = _status(client, Donation.objects.get())
    assert "offers no way to pay this donation just now" in html and "<svg " not in html


def test_reloads_ask_btcpay_at_most_once_in_ten_seconds(campaign, btcpay, later):
    """Whoever holds the page's address (or reloads it fast) cannot make Zbor hammer BTCPay."""
    client = Client()
    _give(client, nojs=True)
    donation = Donation.objects.get()

    def asked() -> int:
        return sum(1 for r in btcpay.requests if r["path"].endswith("/payment-methods"))

    for _ in range(5):
        assert "send exactly" in _status(client, donation)
    assert asked() == 1
    later(bitcoin_views.METHODS_SECONDS + 1)
    _status(client, donation)
    assert asked() == 2
