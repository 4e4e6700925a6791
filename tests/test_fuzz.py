"""Fuzzing every parser that faces the world: no input makes a 500 or loses or half-writes data.

    story markdown          tests/test_fuzz_markdown.py
    typed amounts           tests/test_fuzz_amounts.py
    the donate form         tests/test_fuzz_amounts.py
    bank statements         tests/test_fuzz_statements.py
    Stripe webhooks         never a 500; money moves only for a well-formed event of a real donation
    the demo checkout       never a 500; money moves only for "complete"

Each database example runs in a savepoint that is rolled back, so examples never see each other.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from urllib.parse import quote

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from tests.fuzzing import fuzz, rolled_back, text

SECRET = "whsec_fuzz_secret"


# ---------------------------------------------------------------------------------------------
# 4. Webhooks and the demo checkout
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def stripe_world(db, settings, client):
    from tests import factories
    from tests.fake_stripe import stripe_enabled
    from zbor.donations import services

    with stripe_enabled(settings, SECRET):
        campaign = factories.campaign(slug="fuzz-stripe", needs=(50000, 50000))

        def start(provider, amount):
            return services.start_donation(
                campaign, amount=amount, need=None, provider=provider, idempotency_key=uuid.uuid4().hex
            )

        pending, paid = start("stripe", 2500), start("stripe", 4000)
        response = _post_event(
            client,
            {
                "id": "evt_paid",
                "object": "event",
                "type": "checkout.session.completed",
                "data": {
                    "object": {
                        "id": paid.checkout_reference,
                        "object": "checkout.session",
                        "payment_status": "paid",
                        "amount_total": 4000,
                        "currency": "eur",
                        "payment_intent": "pi_fuzz_paid",
                    }
                },
            },
        )
        assert response.status_code == 200 and response.content == b"processed"
        # Paid, but Stripe named no payment intent: no refund may find it by an empty reference.
        response = _post_event(
            client,
            {
                "id": "evt_paid_2",
                "object": "event",
                "type": "checkout.session.completed",
                "data": {
                    "object": {
                        "id": start("stripe", 3000).checkout_reference,
                        "object": "checkout.session",
                        "payment_status": "paid",
                        "amount_total": 3000,
                        "currency": "eur",
                        "payment_intent": None,
                    }
                },
            },
        )
        assert response.status_code == 200 and response.content == b"processed"
        world = {
            "pending": pending.checkout_reference,
            "paid_intent": "pi_fuzz_paid",
            "others": [start("demo", 1000).checkout_reference, start("bank", 1000).checkout_reference],
        }
        yield world


def _signature(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + body
    return f"t={timestamp},v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}"


def _post_event(client, event, *, body: bytes | None = None, signature: str | None = None):
    body = json.dumps(event).encode() if body is None else body
    headers = {"stripe-signature": _signature(body) if signature is None else signature}
    return client.post("/webhooks/stripe/", body, content_type="application/json", headers=headers)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | text(20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text(8), children, max_size=3),
    max_leaves=6,
)
SUCCEEDED_KINDS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
DISPUTE_KINDS = ("charge.dispute.created", "charge.dispute.funds_reinstated")
KINDS = [
    *SUCCEEDED_KINDS,
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
    "charge.refunded",
    *DISPUTE_KINDS,
    "customer.created",
    "payment_intent.succeeded",
]
AMOUNTS = [
    2500,
    4000,
    1,
    0,
    -1,
    10**20,
    2**63,
    -(2**63),
    True,
    False,
    2500.0,
    25.5,
    "2500",
    None,
    [2500],
    {"value": 2500},
]


NASTY_STRIPE = [
    *AMOUNTS,
    "",
    "x" * 300,
    "cs\x00",
    "eu\x00",
    "EURO",
    978,
    "pi/../x",
    "evt_paid",
    {"id": "pi_fuzz_paid"},
    [],
    {},
]


@st.composite
def stripe_events(draw, world):
    """A well-formed event of a kind Zbor handles (or not), then up to three faults in its fields."""
    kind = draw(st.sampled_from(KINDS))
    currency = st.sampled_from(["eur", "eur", "EUR", "pln"])
    intent = st.sampled_from([world["paid_intent"], world["paid_intent"], "pi_new", None])
    if kind.startswith("checkout.session"):
        obj = {
            "id": draw(st.sampled_from([world["pending"], world["pending"], *world["others"], "cs_test_unknown"])),
            "object": "checkout.session",
            "payment_status": draw(st.sampled_from(["paid", "paid", "unpaid"])),
            "amount_total": draw(st.sampled_from([2500, 2500, 1, 4000, 0])),
            "currency": draw(currency),
            "payment_intent": draw(st.sampled_from(["pi_new", None, world["paid_intent"]])),
        }
    elif kind == "charge.refunded":
        obj = {
            "id": "ch_1",
            "object": "charge",
            "amount": 4000,
            "amount_refunded": draw(st.sampled_from([1000, 4000, 5000, 0])),
            "currency": draw(currency),
            "payment_intent": draw(intent),
        }
    elif kind in DISPUTE_KINDS:
        obj = {
            "id": "du_1",
            "object": "dispute",
            "amount": draw(st.sampled_from([1000, 4000, 5000, 0])),
            "currency": draw(currency),
            "payment_intent": draw(intent),
            "charge": "ch_1",
            "status": draw(st.sampled_from(["needs_response", "lost", "won", "warning_needs_response"])),
        }
    else:
        obj = {"id": "cus_1", "object": "customer"}
    event = {"id": f"evt_{draw(st.uuids()).hex[:16]}", "object": "event", "type": kind, "data": {"object": obj}}
    nasty = st.one_of(st.sampled_from(NASTY_STRIPE), st.sampled_from(NASTY_STRIPE), JSON)
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2, 3]))):
        fault = draw(st.sampled_from(["field", "field", "field", "drop-field", "event-field", "drop-event-field"]))
        if fault == "field":
            obj[draw(st.sampled_from(sorted({*obj, "amount_total", "payment_intent", "currency"})))] = draw(nasty)
        elif fault == "drop-field" and obj:
            del obj[draw(st.sampled_from(sorted(obj)))]
        elif fault == "event-field":
            event[draw(st.sampled_from(["id", "type", "data"]))] = draw(nasty)
        elif fault == "drop-event-field" and event:
            del event[draw(st.sampled_from(sorted(event)))]
    return event


def books_money(event, world) -> bool:
    """Whether an event is a well-formed one that should move money for a real donation."""
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("data"), dict)
        or not isinstance(event["data"].get("object"), dict)
    ):
        return False
    if not isinstance(event.get("id"), str):
        return False
    obj, kind = event["data"]["object"], event.get("type")

    def amount(name):
        value = obj.get(name)
        return value if type(value) is int and value > 0 else None

    currency_ok = isinstance(obj.get("currency"), str) and obj["currency"].upper() == "EUR"
    if kind in SUCCEEDED_KINDS:
        return (
            obj.get("id") == world["pending"]
            and obj.get("payment_status") == "paid"
            and amount("amount_total") is not None
            and currency_ok
        )
    if kind == "charge.refunded":
        return (
            obj.get("payment_intent") == world["paid_intent"] and amount("amount_refunded") is not None and currency_ok
        )
    if kind in DISPUTE_KINDS:
        return (
            obj.get("payment_intent") == world["paid_intent"]
            and amount("amount") is not None
            and currency_ok
            and not str(obj.get("status", "")).startswith("warning_")
        )
    return False


@fuzz(200)
@given(st.data())
def test_no_webhook_body_makes_a_500_or_moves_money_unless_well_formed(client, stripe_world, data):
    from zbor.donations.models import Donation, DonationStatus
    from zbor.ledger.models import Transfer
    from zbor.payments.models import PaymentEventRecord

    payload = None
    shape = data.draw(st.sampled_from(["stripe", "stripe", "stripe", "json", "bytes"]))
    if shape == "stripe":
        payload = data.draw(stripe_events(stripe_world))
        body = json.dumps(payload).encode()
    elif shape == "json":
        payload = data.draw(JSON)
        body = json.dumps(payload).encode()
    else:
        body = data.draw(st.binary(max_size=200))
    signature = data.draw(st.sampled_from([None] * 8 + ["", "t=1,v1=deadbeef", _signature(body, "whsec_other")]))
    with rolled_back():
        before = Transfer.objects.count(), PaymentEventRecord.objects.count()
        others = list(Donation.objects.exclude(provider="stripe").values_list("pk", "status"))
        response = _post_event(client, None, body=body, signature=signature)
        assert response.status_code in (200, 400, 503), (response.status_code, response.content)
        if signature is not None or response.status_code != 200:
            assert (Transfer.objects.count(), PaymentEventRecord.objects.count()) == before
        moved = Transfer.objects.count() != before[0]
        event(
            f"webhook {shape}: {response.status_code} {response.content.decode()[:20]}{', money moved' if moved else ''}"
        )
        if moved:
            assert signature is None and books_money(payload, stripe_world), payload
        assert list(Donation.objects.exclude(provider="stripe").values_list("pk", "status")) == others
        pending = Donation.objects.get(provider="stripe", checkout_reference=stripe_world["pending"])
        if pending.status == DonationStatus.SUCCEEDED:
            assert books_money(payload, stripe_world) and payload["type"] in SUCCEEDED_KINDS


@pytest.fixture
def demo_world(db):
    from tests import factories
    from zbor.donations import services

    campaign = factories.campaign(slug="fuzz-demo", needs=(50000,))
    pending = services.start_donation(
        campaign, amount=1500, need=None, provider="demo", idempotency_key=uuid.uuid4().hex
    )
    bank = services.start_donation(campaign, amount=1500, need=None, provider="bank", idempotency_key=uuid.uuid4().hex)
    return {"pending": pending.checkout_reference, "bank": bank.checkout_reference}


@fuzz(60)
@given(st.data())
def test_the_demo_checkout_moves_money_only_when_completed(client, demo_world, data):
    from zbor.donations.models import Donation, DonationStatus
    from zbor.ledger.models import Transfer

    known = st.sampled_from(
        [demo_world["pending"], demo_world["pending"], demo_world["pending"], demo_world["bank"], "demo_x"]
    )
    reference = data.draw(st.one_of(known, known, known, text(30).map(lambda s: s.replace("\x00", "") or "x")))
    outcome = data.draw(
        st.one_of(st.sampled_from(["complete", "fail", "cancel", "COMPLETE", " complete", "", "refund"]), text(20))
    )
    fields = {"outcome": outcome} if data.draw(st.booleans()) or outcome else {}
    with rolled_back():
        before = Transfer.objects.count()
        response = client.post(f"/en/donations/test-checkout/{quote(reference, safe='')}/", fields)
        assert response.status_code in (302, 400, 404), response.status_code
        event(f"demo checkout: {response.status_code}")
        donation = Donation.objects.get(checkout_reference=demo_world["pending"])
        if reference == demo_world["pending"] and fields.get("outcome") == "complete":
            assert donation.status == DonationStatus.SUCCEEDED and Transfer.objects.count() > before
        else:
            assert Transfer.objects.count() == before
            expected = {"fail": DonationStatus.FAILED, "cancel": DonationStatus.CANCELLED}.get(fields.get("outcome"))
            targeted = reference == demo_world["pending"]
            assert donation.status == (expected if targeted and expected else DonationStatus.PENDING)
        assert Donation.objects.get(checkout_reference=demo_world["bank"]).status == DonationStatus.PENDING
