"""Stripe's Refunds API through the real SDK against tests/fake_stripe.py, and Stripe's refund
events read into ``PaymentEvent``s: what ``StripeProvider.refund`` answers and raises."""

import json
import time

import pytest
import stripe

from tests.fake_stripe import FakeStripe
from zbor.payments.base import EventType, RefundRefused, RefundRequest, RefundState, RefundUnanswered
from zbor.payments.stripe import StripeProvider

SECRET = "whsec_refunds"


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
        descriptor_suffix="",
        api_base=fake.url,
    )


def ask(amount, key="key-1", pi="pi_test_7"):
    return RefundRequest(payment_reference=pi, amount=amount, currency="EUR", idempotency_key=key, zbor_refund="7")


def test_a_refund_is_made_once_per_idempotency_key(fake, provider):
    fake.add_payment("pi_test_7", 2500)
    first = provider.refund(ask(1000))
    again = provider.refund(ask(1000))
    assert first == again
    assert (first.provider_refund_id, first.state, first.amount) == ("re_test_1", RefundState.SUCCEEDED, 1000)
    assert len(fake.refunds) == 1 and fake.payments["pi_test_7"]["amount_refunded"] == 1000
    assert fake.refunds["re_test_1"]["metadata"] == {"zbor_refund": "7"}
    second = provider.refund(ask(1500, key="key-2"))
    assert second.provider_refund_id == "re_test_2"
    with pytest.raises(RefundRefused, match="charge_already_refunded"):
        provider.refund(ask(1, key="key-3"))


def test_stripes_refusals_keep_its_words_and_code(fake, provider):
    fake.add_payment("pi_test_7", 2500)
    with pytest.raises(RefundRefused, match=r"greater than unrefunded amount on charge \(2500\) \(amount_too_large\)"):
        provider.refund(ask(2501))
    with pytest.raises(RefundRefused, match="resource_missing"):
        provider.refund(ask(100, key="other", pi="pi_unknown"))
    assert fake.refunds == {}


def test_no_answer_is_not_a_refusal(fake, provider):
    fake.add_payment("pi_test_7", 2500)
    fake.drop_next = 3  # the first try and the SDK's two retries
    with pytest.raises(RefundUnanswered):
        provider.refund(ask(1000))
    # The SDK's own retry after a lost answer sends the same key: one refund.
    fake.lose_answer_next = 1
    result = provider.refund(ask(1000))
    assert result.state == RefundState.SUCCEEDED and len(fake.refunds) == 1
    keys = {r["headers"]["Idempotency-Key"] for r in fake.requests if r["path"] == "/v1/refunds"}
    assert keys == {"key-1"}


def test_a_pending_refund_is_answered_as_pending(fake, provider):
    fake.add_payment("pi_test_7", 2500)
    fake.refund_status = "pending"
    assert provider.refund(ask(2500)).state == RefundState.PENDING


@pytest.mark.parametrize("kind", ["refund.created", "refund.updated", "refund.failed", "charge.refund.updated"])
def test_a_refund_event_names_the_refund_its_state_and_zbors_number(fake, provider, kind):
    fake.add_payment("pi_test_7", 2500)
    provider.refund(ask(1000))
    obj = {**fake.refunds["re_test_1"], "status": "failed", "failure_reason": "lost_or_stolen_card"}
    payload = json.dumps(
        {"id": "evt_r1", "object": "event", "created": int(time.time()), "type": kind, "data": {"object": obj}}
    )
    header = stripe.WebhookSignature.generate_signature_header(payload, SECRET)
    event = provider.parse_webhook(payload.encode(), {"stripe-signature": header})
    assert (event.type, event.payment_reference, event.amount, event.currency) == (
        EventType.REFUND_UPDATED,
        "pi_test_7",
        1000,
        "EUR",
    )
    assert event.extra == {
        "refund": "re_test_1",
        "status": "failed",
        "failure_reason": "lost_or_stolen_card",
        "zbor_refund": "7",
    }
