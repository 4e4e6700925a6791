"""BTCPay's Greenfield API through the real HTTP client against the local fake
(tests/fake_btcpay.py), and its webhooks' signature and reduction to PaymentEvents."""

import json
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.fake_btcpay import FakeBtcpay
from zbor.payments import registry
from zbor.payments.base import CheckoutRequest, EventType, InvalidWebhook, ProviderUnavailable
from zbor.payments.btcpay import BtcpayProvider, CryptoPaymentMethod, settled_event_id

pytestmark = pytest.mark.django_db


def provider() -> BtcpayProvider:
    found = registry.get("btcpay")
    assert isinstance(found, BtcpayProvider)
    return found


def checkout(amount=2500, currency="EUR", reference=None, language="en"):
    return provider().start_checkout(
        CheckoutRequest(
            donation_reference=reference or str(uuid.uuid4()),
            amount=amount,
            currency=currency,
            success_url="https://zbor.example/en/donations/abc/",
            cancel_url="https://zbor.example/en/donations/abc/?cancelled=1",
            idempotency_key="zbor-checkout-abc",
            language=language,
        )
    )


def headers_of(signed: dict) -> dict:
    return {k.lower(): v for k, v in signed.items()}


def test_an_invoice_carries_only_the_amount_currency_and_donation_reference(btcpay):
    start = checkout(amount=2500, reference="6f1c1a0e-0000-4000-8000-000000000001", language="ru")
    [create] = [r for r in btcpay.requests if r["method"] == "POST"]
    sent = json.loads(create["body"])
    assert sent == {
        "amount": "25.00",
        "currency": "EUR",
        "metadata": {"orderId": "6f1c1a0e-0000-4000-8000-000000000001"},
        "checkout": {
            "redirectURL": "https://zbor.example/en/donations/abc/",
            "redirectAutomatically": True,
            "defaultLanguage": "ru-RU",
            "lazyPaymentMethods": False,
        },
    }
    assert create["headers"]["Authorization"] == f"token {btcpay.api_key}"
    invoice_id = btcpay.only_invoice()
    assert start.provider_reference == invoice_id
    assert start.redirect_url == f"{btcpay.url}/i/{invoice_id}"


def test_amounts_keep_the_currency_s_decimal_places(btcpay):
    checkout(amount=1234, currency="USD")
    [create] = [r for r in btcpay.requests if r["method"] == "POST"]
    assert json.loads(create["body"])["amount"] == "12.34"


def test_starting_twice_for_one_donation_finds_the_first_invoice(btcpay):
    first = checkout(reference="same-donation")
    second = checkout(reference="same-donation")
    assert first == second
    assert len(btcpay.invoices) == 1
    assert [r["query"].get("orderId") for r in btcpay.requests if r["method"] == "GET"] == [["same-donation"]] * 2


def test_an_expired_invoice_is_not_reused(btcpay):
    first = checkout(reference="again")
    btcpay.expire(first.provider_reference)
    second = checkout(reference="again")
    assert second.provider_reference != first.provider_reference


def test_btcpay_failing_or_silent_is_provider_unavailable(btcpay, settings):
    btcpay.fail_next = 1
    with pytest.raises(ProviderUnavailable):
        checkout()
    settings.BTCPAY_API_KEY = "wrong"
    registry._providers.cache_clear()
    with pytest.raises(ProviderUnavailable):
        checkout()
    settings.BTCPAY_URL = "http://127.0.0.1:9"  # nothing listens
    registry._providers.cache_clear()
    with pytest.raises(ProviderUnavailable):
        provider().payment_methods("whatever")
    assert not btcpay.invoices


def test_payment_methods_give_the_address_lightning_invoice_and_amounts(btcpay):
    invoice_id = checkout(amount=2500).provider_reference
    chain, lightning = provider().payment_methods(invoice_id)
    invoice = btcpay.invoices[invoice_id]
    assert chain == CryptoPaymentMethod(
        kind="onchain",
        coin="BTC",
        destination=invoice["address"],
        payment_link=f"bitcoin:{invoice['address']}?amount=0.00041667",
        amount="0.00041667",
        due="0.00041667",
        paid="0.00000000",
        rate="60000.00",
    )
    assert lightning.kind == "lightning"
    assert lightning.payment_link == f"lightning:{invoice['bolt11']}"
    btcpay.pay(invoice_id, "0.0004")
    [chain, _] = provider().payment_methods(invoice_id)
    assert (chain.paid, chain.due) == ("0.00040000", "0.00001667")


def test_payment_methods_of_btcpay_1_and_without_lightning(btcpay):
    btcpay.legacy_ids, btcpay.lightning = True, False
    invoice_id = checkout().provider_reference
    [chain] = provider().payment_methods(invoice_id)
    assert chain.kind == "onchain"


def test_the_checkout_origin_is_the_btcpay_server(btcpay):
    assert provider().checkout_origins == (btcpay.url,)
    assert registry.label("btcpay") == "Bitcoin"


def test_btcpay_needs_all_four_settings(settings):
    settings.ZBOR_PAYMENT_PROVIDERS = ["btcpay"]
    settings.BTCPAY_URL, settings.BTCPAY_STORE_ID = "https://pay.example", "store"
    settings.BTCPAY_API_KEY, settings.BTCPAY_WEBHOOK_SECRET = "key", ""
    registry._providers.cache_clear()
    try:
        with pytest.raises(ImproperlyConfigured, match="BTCPAY_WEBHOOK_SECRET"):
            registry.enabled()
    finally:
        registry._providers.cache_clear()


# Webhooks ---------------------------------------------------------------------------------


def test_a_signed_settlement_is_a_payment_at_the_fiat_paid(btcpay):
    invoice_id = checkout(amount=2500).provider_reference
    btcpay.pay(invoice_id)
    btcpay.settle(invoice_id)
    body, headers = btcpay.webhook(invoice_id, "InvoiceSettled")
    event = provider().parse_webhook(body, headers_of(headers))
    assert event is not None
    assert (event.type, event.event_id, event.checkout_reference) == (
        EventType.SUCCEEDED,
        settled_event_id(invoice_id),
        invoice_id,
    )
    assert (event.amount, event.currency, event.fee) == (2500, "EUR", 0)
    assert event.extra == {"coin": "BTC", "coin_amount": "0.00041667", "rate": "60000.00", "overpaid": False}


def test_an_overpaid_settlement_brings_what_arrived(btcpay):
    invoice_id = checkout(amount=2500).provider_reference
    btcpay.pay(invoice_id, "0.0005")  # €30 at 60,000
    btcpay.settle(invoice_id)
    body, headers = btcpay.webhook(invoice_id, "InvoiceSettled")
    event = provider().parse_webhook(body, headers_of(headers))
    assert event is not None and (event.amount, event.extra["overpaid"]) == (3000, True)


def test_a_wrong_or_missing_signature_is_refused(btcpay):
    invoice_id = checkout().provider_reference
    body, headers = btcpay.webhook(invoice_id, "InvoiceSettled")
    with pytest.raises(InvalidWebhook):
        provider().parse_webhook(body, {})
    with pytest.raises(InvalidWebhook):
        provider().parse_webhook(body + b" ", headers_of(headers))
    forged = FakeBtcpay(webhook_secret="another secret").sign(body)
    with pytest.raises(InvalidWebhook):
        provider().parse_webhook(body, headers_of(forged))


def test_signed_nonsense_is_refused(btcpay):
    for body in (b"not json", b"[1, 2]", b'{"no": "type"}'):
        with pytest.raises(InvalidWebhook):
            provider().parse_webhook(body, headers_of(btcpay.sign(body)))


def test_events_about_nothing_zbor_books_are_ignored(btcpay):
    invoice_id = checkout().provider_reference
    for kind in ("InvoiceCreated", "InvoiceProcessing", "InvoiceReceivedPayment", "InvoicePaymentSettled"):
        body, headers = btcpay.webhook(invoice_id, kind)
        assert provider().parse_webhook(body, headers_of(headers)) is None
    body, headers = btcpay.webhook(invoice_id, "InvoiceSettled", storeId="another-store")
    assert provider().parse_webhook(body, headers_of(headers)) is None
    payout = json.dumps({"type": "PayoutCreated", "storeId": btcpay.store_id, "payoutId": "p1"}).encode()
    assert provider().parse_webhook(payout, headers_of(btcpay.sign(payout))) is None


def test_a_settlement_of_an_invoice_no_longer_settled_is_ignored(btcpay):
    invoice_id = checkout().provider_reference
    body, headers = btcpay.webhook(invoice_id, "InvoiceSettled")  # New: not settled
    assert provider().parse_webhook(body, headers_of(headers)) is None


def test_expiry_and_invalidity_end_the_invoice(btcpay):
    invoice_id = checkout().provider_reference
    btcpay.expire(invoice_id)
    body, headers = btcpay.webhook(invoice_id, "InvoiceExpired")
    event = provider().parse_webhook(body, headers_of(headers))
    assert event is not None and (event.type, event.event_id) == (EventType.EXPIRED, f"{invoice_id}:InvoiceExpired")
    body, headers = btcpay.webhook(invoice_id, "InvoiceInvalid")
    event = provider().parse_webhook(body, headers_of(headers))
    assert event is not None and event.type == EventType.FAILED


def test_money_on_an_expired_invoice_is_a_payment_for_review(btcpay):
    invoice_id = checkout(amount=2500).provider_reference
    btcpay.pay(invoice_id, "0.0002")  # €12
    btcpay.expire(invoice_id)
    body, headers = btcpay.webhook(invoice_id, "InvoiceExpired")
    partial = provider().parse_webhook(body, headers_of(headers))
    assert partial is not None
    assert (partial.type, partial.amount, partial.extra["review"]) == (EventType.SUCCEEDED, 1200, "partially_paid")
    btcpay.pay(invoice_id, "0.00021667")  # the rest, late
    body, headers = btcpay.webhook(invoice_id, "InvoiceReceivedPayment")
    late = provider().parse_webhook(body, headers_of(headers))
    assert late is not None
    assert (late.amount, late.extra["review"]) == (2500, "paid_after_expiration")
    assert late.event_id != partial.event_id
    body, headers = btcpay.webhook(invoice_id, "InvoicePaymentSettled")
    settled = provider().parse_webhook(body, headers_of(headers))
    assert settled is not None and settled.event_id == late.event_id  # the same money: one event


def test_btcpay_not_answering_while_a_webhook_is_read(btcpay):
    invoice_id = checkout().provider_reference
    btcpay.pay(invoice_id)
    btcpay.settle(invoice_id)
    body, headers = btcpay.webhook(invoice_id, "InvoiceSettled")
    btcpay.fail_next = 1
    with pytest.raises(ProviderUnavailable):
        provider().parse_webhook(body, headers_of(headers))


def test_the_fake_checkout_page_links_back(btcpay):
    import requests

    start = checkout()
    page = requests.get(start.redirect_url, timeout=5)
    assert page.status_code == 200
    assert 'href="https://zbor.example/en/donations/abc/"' in page.text


def test_an_invoice_marked_settled_by_hand_is_for_review(btcpay):
    invoice_id = checkout(amount=2500).provider_reference
    btcpay.pay(invoice_id, "0.0003")  # €18
    btcpay.mark_settled(invoice_id)
    body, headers = btcpay.webhook(invoice_id, "InvoiceSettled")
    assert json.loads(body)["manuallyMarked"] is True
    event = provider().parse_webhook(body, headers_of(headers))
    assert event is not None and (event.amount, event.extra["review"]) == (1800, "manually_marked")


def test_zbor_s_invoices_have_their_address_even_in_a_lazy_store(btcpay):
    btcpay.lazy_by_default = True
    invoice_id = checkout().provider_reference
    assert [m.kind for m in provider().payment_methods(invoice_id)] == ["onchain", "lightning"]
    lazy = btcpay.create(json.dumps({"amount": "5", "currency": "EUR"}).encode())[1]["id"]  # made elsewhere
    assert provider().payment_methods(lazy) == []
