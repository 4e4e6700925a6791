"""Monthly gifts through Stripe's real SDK against the local fake (tests/fake_stripe.py and its
Billing): what each call sends, and each subscription and invoice event read, signature checked
by the SDK's own code, into the ``PaymentEvent`` Zbor applies."""

import json

import pytest

from tests.fake_stripe import FEE, FakeStripe
from tests.fake_stripe_billing import DONOR_EMAIL, DONOR_NAME, event, signed
from zbor.payments.base import EventType, InvalidWebhook, PaymentEvent, ProviderUnavailable, SubscriptionRequest
from zbor.payments.stripe import StripeProvider

SECRET = "whsec_monthly"
GIFT = "5f0c3a8e9b7d4e2f8a1b6c0d9e8f7a6b"


@pytest.fixture
def fake():
    with FakeStripe() as fake:
        yield fake


@pytest.fixture
def provider(fake):
    return StripeProvider(
        secret_key="sk_test_fake",
        webhook_secret=SECRET,
        product_name="Donation",
        descriptor_suffix="DONATION",
        api_base=fake.url,
    )


def start(provider, amount=1000, key="zbor-monthly-1", language="pl"):
    return provider.start_subscription(
        SubscriptionRequest(
            gift_reference=GIFT,
            amount=amount,
            currency="EUR",
            success_url=f"https://zbor.test/pl/monthly/{GIFT}/thanks/",
            cancel_url=f"https://zbor.test/pl/monthly/{GIFT}/cancelled/",
            idempotency_key=key,
            language=language,
        )
    )


def started(fake, provider) -> tuple[str, str, str]:
    """A gift whose checkout the donor completed: (session, subscription, customer)."""
    session = fake.billing.complete_checkout(start(provider).provider_reference)
    return session["id"], session["subscription"], session["customer"]


def deliver(provider, event_type, obj, **kwargs) -> PaymentEvent | None:
    body = event(event_type, obj, **kwargs)
    return provider.parse_webhook(body.encode(), signed(body, SECRET))


def keeps_no_donor_data(parsed: PaymentEvent) -> None:
    text = json.dumps(parsed.as_json())
    for secret in (DONOR_EMAIL, DONOR_NAME, "Warszawa", "Prosta"):
        assert secret not in text


def test_the_checkout_is_a_monthly_price_of_the_neutral_product_naming_only_the_gift(fake, provider):
    assert provider.monthly
    result = start(provider)
    assert result.redirect_url.startswith("https://checkout.stripe.test/pay/cs_test_")
    [request] = [r for r in fake.requests if r["path"] == "/v1/checkout/sessions"]
    form = {k: v[0] for k, v in request["form"].items()}
    assert form["mode"] == "subscription"
    assert form["line_items[0][price_data][unit_amount]"] == "1000"
    assert form["line_items[0][price_data][currency]"] == "eur"
    assert form["line_items[0][price_data][recurring][interval]"] == "month"
    # The price belongs to one product made once: the neutral name, the descriptor suffix.
    [product] = fake.billing.products.values()
    assert form["line_items[0][price_data][product]"] == product["id"]
    assert (product["name"], product["statement_descriptor"]) == ("Donation", "DONATION")
    assert form["allowed_payment_method_types[0]"] == "card"
    assert form["locale"] == "pl"
    assert request["headers"]["Idempotency-Key"] == "zbor-monthly-1"
    # The gift's random id is the only metadata; no email (Checkout asks for it), no description.
    metadata = {k: v for k, v in form.items() if "metadata" in k}
    assert metadata == {"subscription_data[metadata][zbor_gift]": GIFT}
    assert not any("email" in k or "description" in k or "customer" in k for k in form)
    # Checkout refuses payment_intent_data in subscription mode: it is never sent.
    assert not any(k.startswith("payment_intent_data") for k in form)


def test_the_same_key_starts_one_checkout(fake, provider):
    assert start(provider) == start(provider)
    assert start(provider, key="other").provider_reference != start(provider).provider_reference
    assert len(fake.sessions) == 2


def test_the_product_is_made_once_and_found_again_by_another_process(fake, provider):
    start(provider)
    again = StripeProvider(
        secret_key="sk_test_fake",
        webhook_secret=SECRET,
        product_name="Donation",
        descriptor_suffix="DONATION",
        api_base=fake.url,
    )
    start(again, key="other")
    assert len(fake.billing.products) == 1
    assert [r["method"] for r in fake.requests if r["path"].startswith("/v1/products")] == ["GET", "POST", "GET"]
    sessions = [r["form"] for r in fake.requests if r["path"] == "/v1/checkout/sessions"]
    assert len({f["line_items[0][price_data][product]"][0] for f in sessions}) == 1


def test_belarusian_lets_stripe_pick_the_language(fake, provider):
    start(provider, language="be")
    assert fake.requests[-1]["form"]["locale"] == ["auto"]


def test_a_refused_checkout_is_provider_unavailable(fake, provider):
    fake.fail_next = True
    with pytest.raises(ProviderUnavailable, match="create the monthly product"):
        start(provider)
    provider.monthly_product()
    fake.fail_next = True
    with pytest.raises(ProviderUnavailable, match="start the monthly checkout"):
        start(provider)
    assert fake.sessions == {}


def test_a_completed_subscription_checkout_starts_the_gift(fake, provider):
    session_id = start(provider).provider_reference
    session = fake.billing.complete_checkout(session_id)
    session["customer_details"] = {"email": DONOR_EMAIL, "name": DONOR_NAME}
    parsed = deliver(provider, "checkout.session.completed", session, event_id="evt_started")
    assert parsed == PaymentEvent(
        "stripe",
        "evt_started",
        EventType.SUBSCRIPTION_STARTED,
        checkout_reference=session_id,
        amount=1000,
        currency="EUR",
        extra={"subscription": session["subscription"], "customer": session["customer"]},
    )
    keeps_no_donor_data(parsed)
    assert session["subscription"].startswith("sub_") and session["customer"].startswith("cus_")
    # An expired monthly checkout is no event: the gift simply stays pending.
    assert deliver(provider, "checkout.session.expired", {**session, "status": "expired"}) is None


def test_a_one_off_checkout_still_succeeds_as_before(fake, provider):
    session = {
        "id": "cs_test_once",
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": "paid",
        "amount_total": 2500,
        "currency": "eur",
        "payment_intent": "pi_test_once",
        "customer_details": {"email": DONOR_EMAIL, "name": DONOR_NAME},
    }
    parsed = deliver(provider, "checkout.session.completed", session)
    assert (parsed.type, parsed.checkout_reference, parsed.payment_reference) == (
        EventType.SUCCEEDED,
        "cs_test_once",
        "pi_test_once",
    )
    assert (parsed.amount, parsed.currency, parsed.fee, parsed.extra) == (2500, "EUR", FEE, {"charge": "ch_test_once"})


def test_each_paid_month_names_its_invoice_payment_and_fee(fake, provider):
    _, subscription, customer = started(fake, provider)
    invoice = fake.billing.bill(subscription)
    parsed = deliver(provider, "invoice.paid", invoice, event_id="evt_month_2")
    [payment] = fake.billing.invoice_payments[invoice["id"]]
    intent = payment["payment"]["payment_intent"]
    assert parsed == PaymentEvent(
        "stripe",
        "evt_month_2",
        EventType.MONTHLY_PAID,
        checkout_reference=invoice["id"],
        payment_reference=intent,
        amount=1000,
        currency="EUR",
        fee=FEE,
        extra={
            "subscription": subscription,
            "invoice": invoice["id"],
            "gift": GIFT,
            "customer": customer,
            "charge": "ch_" + intent[3:],
        },
    )
    keeps_no_donor_data(parsed)
    # The month's payment is an ordinary PaymentIntent: refunds can name it.
    assert fake.payments[intent]["amount"] == 1000
    # Replayed, the same event reads the same; the first month has its own invoice and payment.
    assert deliver(provider, "invoice.paid", invoice, event_id="evt_month_2") == parsed
    first = next(i for i in fake.billing.invoices.values() if i["billing_reason"] == "subscription_create")
    assert deliver(provider, "invoice.paid", first).payment_reference not in ("", intent)


def test_an_invoice_of_an_older_api_version_is_read_too(fake, provider):
    _, subscription, _ = started(fake, provider)
    invoice = fake.billing.bill(subscription)
    fake.add_payment("pi_test_legacy", 1000)
    legacy = {**invoice, "parent": None, "subscription": subscription, "payment_intent": "pi_test_legacy"}
    parsed = deliver(provider, "invoice.paid", legacy, api_version="2025-01-27.acacia")
    assert (parsed.payment_reference, parsed.extra["subscription"], parsed.extra["gift"]) == (
        "pi_test_legacy",
        subscription,
        "",
    )


def test_a_failed_month_is_monthly_failed(fake, provider):
    _, subscription, customer = started(fake, provider)
    invoice = fake.billing.bill(subscription, paid=False)
    parsed = deliver(provider, "invoice.payment_failed", invoice)
    assert (parsed.type, parsed.checkout_reference, parsed.payment_reference) == (
        EventType.MONTHLY_FAILED,
        invoice["id"],
        "",
    )
    assert (parsed.amount, parsed.currency, parsed.fee) == (1000, "EUR", 0)
    assert parsed.extra == {"subscription": subscription, "invoice": invoice["id"], "gift": GIFT, "customer": customer}
    keeps_no_donor_data(parsed)
    assert fake.billing.subscriptions[subscription]["status"] == "past_due"


def test_an_invoice_without_a_subscription_is_not_a_monthly_gift(fake, provider):
    _, subscription, _ = started(fake, provider)
    invoice = {**fake.billing.bill(subscription), "parent": None}
    assert deliver(provider, "invoice.paid", invoice) is None


def test_an_invoice_that_paid_nothing_books_no_month(fake, provider):
    _, subscription, _ = started(fake, provider)
    invoice = {**fake.billing.bill(subscription), "amount_paid": 0}
    assert deliver(provider, "invoice.paid", invoice) is None


def test_changing_the_amount_prices_the_next_months_without_proration(fake, provider):
    _, subscription, _ = started(fake, provider)
    product = fake.billing.subscriptions[subscription]["items"]["data"][0]["price"]["product"]
    provider.update_subscription(subscription, 2500, "EUR")
    [request] = [
        r for r in fake.requests if r["method"] == "POST" and r["path"] == f"/v1/subscriptions/{subscription}"
    ]
    form = {k: v[0] for k, v in request["form"].items()}
    item = fake.billing.subscriptions[subscription]["items"]["data"][0]
    assert form == {
        "items[0][id]": item["id"],
        "items[0][price_data][currency]": "eur",
        "items[0][price_data][unit_amount]": "2500",
        "items[0][price_data][recurring][interval]": "month",
        "items[0][price_data][product]": product,
        "proration_behavior": "none",
    }
    assert item["price"]["unit_amount"] == 2500 and item["price"]["product"] == product
    parsed = deliver(provider, "customer.subscription.updated", fake.billing.subscription(subscription))
    assert (parsed.type, parsed.amount, parsed.currency) == (EventType.SUBSCRIPTION_UPDATED, 2500, "EUR")
    assert parsed.extra["amount"] == 2500 and parsed.extra["status"] == "active" and parsed.extra["paused"] is False
    assert fake.billing.bill(subscription)["amount_paid"] == 2500
    with pytest.raises(ProviderUnavailable, match="amount"):
        provider.update_subscription(subscription, 2500, "PLN")  # Stripe keeps a subscription's currency


def test_pausing_voids_the_months_and_resuming_clears_it(fake, provider):
    _, subscription, customer = started(fake, provider)
    provider.pause_subscription(subscription, True)
    assert fake.requests[-1]["form"] == {"pause_collection[behavior]": ["void"]}
    assert fake.billing.subscriptions[subscription]["pause_collection"]["behavior"] == "void"
    parsed = deliver(provider, "customer.subscription.updated", fake.billing.subscription(subscription))
    assert parsed.extra == {
        "subscription": subscription,
        "customer": customer,
        "gift": GIFT,
        "status": "active",
        "amount": 1000,
        "paused": True,
    }
    provider.pause_subscription(subscription, False)
    assert fake.requests[-1]["form"] == {"pause_collection": [""]}
    assert fake.billing.subscriptions[subscription]["pause_collection"] is None
    assert (
        deliver(provider, "customer.subscription.updated", fake.billing.subscription(subscription)).extra["paused"]
        is False
    )


def test_stopping_cancels_once_and_deletes_the_customer(fake, provider):
    _, subscription, customer = started(fake, provider)
    provider.cancel_subscription(subscription)
    assert fake.requests[-1]["method"] == "DELETE" and fake.requests[-1]["path"] == f"/v1/subscriptions/{subscription}"
    assert fake.billing.subscriptions[subscription]["status"] == "canceled"
    provider.cancel_subscription(subscription)  # stopping twice is not an error
    parsed = deliver(provider, "customer.subscription.deleted", fake.billing.subscription(subscription))
    assert (parsed.type, parsed.extra["status"], parsed.extra["subscription"]) == (
        EventType.SUBSCRIPTION_ENDED,
        "canceled",
        subscription,
    )
    provider.delete_customer(customer)
    assert fake.billing.customers[customer]["deleted"] and fake.billing.customers[customer]["email"] is None
    provider.delete_customer(customer)  # already gone: fine
    with pytest.raises(ProviderUnavailable, match="pause the subscription"):
        provider.pause_subscription(subscription, True)  # a canceled subscription cannot change


def test_unknown_subscriptions_and_refusals_are_provider_unavailable(fake, provider):
    with pytest.raises(
        ProviderUnavailable, match=r"cancel the subscription: InvalidRequestError \(resource_missing\)"
    ):
        provider.cancel_subscription("sub_unknown")
    with pytest.raises(ProviderUnavailable, match="change the subscription's amount"):
        provider.update_subscription("sub_unknown", 500, "EUR")
    _, subscription, customer = started(fake, provider)
    fake.fail_next = True
    with pytest.raises(ProviderUnavailable, match="delete the customer"):
        provider.delete_customer(customer)
    fake.drop_next = 3  # no answer at all, the SDK's retries included
    with pytest.raises(ProviderUnavailable, match="resume the subscription: APIConnectionError"):
        provider.pause_subscription(subscription, False)


def test_a_bad_signature_is_refused(fake, provider):
    _, subscription, _ = started(fake, provider)
    body = event("invoice.paid", fake.billing.bill(subscription))
    with pytest.raises(InvalidWebhook):
        provider.parse_webhook(body.encode(), signed(body, "whsec_someone_else"))
    with pytest.raises(InvalidWebhook):
        provider.parse_webhook(body.replace('"amount_paid": 1000', '"amount_paid": 1').encode(), signed(body, SECRET))
    with pytest.raises(InvalidWebhook):
        provider.parse_webhook(body.encode(), signed(body, SECRET, timestamp=1))  # stale


def test_a_malformed_subscription_event_is_refused_not_guessed(fake, provider):
    _, subscription, _ = started(fake, provider)
    sub = fake.billing.subscription(subscription)
    sub["items"]["data"][0]["price"]["unit_amount"] = "10.00"
    with pytest.raises(InvalidWebhook, match="malformed"):
        deliver(provider, "customer.subscription.updated", sub)


def test_events_zbor_does_not_use_are_ignored(fake, provider):
    _, subscription, _ = started(fake, provider)
    invoice = fake.billing.bill(subscription)
    for kind in ("invoice.created", "invoice.finalized", "customer.subscription.created", "customer.created"):
        assert deliver(provider, kind, invoice) is None
