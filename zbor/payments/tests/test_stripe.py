"""Stripe through the real SDK: a local fake API for checkout, SDK-signed webhooks for events."""

import json
import re
import time
import uuid

import pytest
import stripe
from django.core.management import call_command
from django.test import Client

from tests import factories
from tests.fake_stripe import FEE, stripe_enabled
from tests.helpers import CAMPAIGN
from zbor.donations.models import Donation, DonationStatus
from zbor.donations.reconcile import reconcile
from zbor.ledger.models import Account, Transfer, TransferGroup
from zbor.payments.models import EventStatus, PaymentEventRecord

pytestmark = pytest.mark.django_db
SECRET = "whsec_test_secret"


@pytest.fixture
def fake_stripe(settings):
    with stripe_enabled(settings, SECRET) as fake:
        yield fake


def start_card_donation(client, amount="25", **extra):
    data = {
        "amount": amount,
        "method": "stripe",
        "idempotency_key": uuid.uuid4().hex,
        "challenge": factories.solved_challenge(),
        **extra,
    }
    response = client.post(f"/en/campaigns/{CAMPAIGN}/donate/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    return response


def send(client, event_type, obj, *, event_id=None, timestamp=None, secret=SECRET, signature=None):
    payload = json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex[:16]}",
            "object": "event",
            "api_version": "2025-01-27.acacia",
            "created": int(time.time()),
            "type": event_type,
            "data": {"object": obj},
        }
    )
    header = signature or stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)
    return client.post(
        "/webhooks/stripe/", payload, content_type="application/json", headers={"stripe-signature": header}
    )


def session_completed(session_id, amount=2500, pi="pi_test_1"):
    return {
        "id": session_id,
        "object": "checkout.session",
        "payment_status": "paid",
        "amount_total": amount,
        "currency": "eur",
        "payment_intent": pi,
        "customer_details": {"email": "donor@example.org", "name": "Real Name"},
    }


def charge_refunded(amount_refunded, pi="pi_test_1", amount=2500):
    return {
        "id": "ch_test_1",
        "object": "charge",
        "amount": amount,
        "amount_refunded": amount_refunded,
        "currency": "eur",
        "payment_intent": pi,
        "refunded": amount_refunded == amount,
    }


def collected(client):
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(f"/en/campaigns/{CAMPAIGN}/").content.decode()))
    return re.search(r"Collected: (€[\d,.]+) of €2,000", text).group(1)


def test_checkout_sends_only_amount_currency_and_neutral_words_to_stripe(client, funded_campaign, fake_stripe):
    response = start_card_donation(client, public_name="Ola", email="ola@example.org", message="Hold on")
    assert response["Location"].startswith("https://checkout.stripe.test/pay/cs_test_")
    [request] = [r for r in fake_stripe.requests if r["path"] == "/v1/checkout/sessions"]
    form = request["form"]
    donation = Donation.objects.get(provider="stripe")
    assert form["line_items[0][price_data][unit_amount]"] == ["2500"]
    assert form["line_items[0][price_data][currency]"] == ["eur"]
    assert form["line_items[0][price_data][product_data][name]"] == ["Donation"]
    assert form["payment_intent_data[statement_descriptor_suffix]"] == ["DONATION"]
    assert "client_reference_id" not in form
    # The return address names the donation, never the campaign, and opened in another
    # browser (whoever reads Stripe's records) the page does not say which campaign it was.
    stranger = Client().get(form["success_url"][0].replace("http://testserver", "")).content.decode()
    beneficiary = funded_campaign.beneficiary
    assert CAMPAIGN not in stranger and beneficiary.safe_translation_getter("display_name") not in stranger
    assert CAMPAIGN in client.get(form["success_url"][0].replace("http://testserver", "")).content.decode()
    assert request["headers"]["Idempotency-Key"] == f"zbor-checkout-{donation.public_id}"
    sent = json.dumps(form) + json.dumps(request["headers"])
    campaign_words = [funded_campaign.safe_translation_getter(f) for f in ("title", "summary")]
    for secret in (*campaign_words, "Anna", CAMPAIGN, "Ola", "ola@example.org", "Hold on", beneficiary.reference):
        assert secret not in sent, secret
    assert not any(key.startswith("metadata") or "[metadata]" in key for key in form)


def test_a_completed_session_confirms_the_donation_with_its_fee(client, funded_campaign, fake_stripe):
    start_card_donation(client)
    session = Donation.objects.get(provider="stripe").checkout_reference
    response = send(client, "checkout.session.completed", session_completed(session))
    assert response.status_code == 200
    donation = Donation.objects.get(provider="stripe")
    assert donation.status == DonationStatus.SUCCEEDED and donation.fee == FEE
    assert donation.charge_reference == "ch_test_1"
    assert collected(client) == "€708"
    assert Account.objects.get(code="fees:stripe:EUR").debit_balance == FEE
    record = PaymentEventRecord.objects.get()
    assert "donor@example.org" not in json.dumps(record.data) and "Real Name" not in json.dumps(record.data)
    assert reconcile().ok


def test_the_same_event_delivered_three_times_counts_once(client, funded_campaign, fake_stripe):
    start_card_donation(client)
    session = Donation.objects.get(provider="stripe").checkout_reference
    for _ in range(3):
        assert (
            send(client, "checkout.session.completed", session_completed(session), event_id="evt_same").status_code
            == 200
        )
    assert PaymentEventRecord.objects.count() == 1
    assert (
        TransferGroup.objects.filter(key__endswith=":succeeded", reference__startswith="donation:").count() == 3
    )  # two earlier gifts, this one
    assert collected(client) == "€708"
    assert reconcile().ok


def test_a_refund_arriving_before_the_completion_is_applied_after_it(client, funded_campaign, fake_stripe):
    start_card_donation(client)
    session = Donation.objects.get(provider="stripe").checkout_reference
    assert send(client, "charge.refunded", charge_refunded(1000)).status_code == 200
    assert PaymentEventRecord.objects.get(type="refunded").status == EventStatus.DEFERRED
    assert send(client, "checkout.session.completed", session_completed(session)).status_code == 200
    donation = Donation.objects.get(provider="stripe")
    assert donation.status == DonationStatus.SUCCEEDED and donation.refunded == 1000
    assert PaymentEventRecord.objects.get(type="refunded").status == EventStatus.PROCESSED
    assert collected(client) == "€698"
    assert reconcile().ok


def test_partial_then_full_refunds_reverse_exactly_and_late_events_change_nothing(
    client, funded_campaign, fake_stripe
):
    start_card_donation(client, amount="333.33")
    session = Donation.objects.get(provider="stripe").checkout_reference
    send(client, "checkout.session.completed", session_completed(session, amount=33333))
    send(client, "charge.refunded", charge_refunded(10001, amount=33333))
    send(client, "charge.refunded", charge_refunded(33333, amount=33333))
    send(client, "charge.refunded", charge_refunded(10001, amount=33333))  # late, out of order
    donation = Donation.objects.get(provider="stripe")
    assert donation.refunded == 33333
    assert Account.objects.get(code="refunds:stripe:EUR").credit_balance == 33333
    assert collected(client) == "€683"
    assert reconcile().ok


def test_a_dispute_takes_the_money_back_from_the_campaign(client, funded_campaign, fake_stripe):
    start_card_donation(client)
    session = Donation.objects.get(provider="stripe").checkout_reference
    send(client, "checkout.session.completed", session_completed(session))
    assert send(client, "charge.dispute.created", dispute_obj(2500)).status_code == 200
    assert Donation.objects.get(provider="stripe").disputed == 2500
    assert Account.objects.get(code="disputes:stripe:EUR").credit_balance == 2500
    assert collected(client) == "€683"
    assert reconcile().ok
    # The foundation wins: the money comes back to the campaign.
    send(client, "charge.dispute.funds_reinstated", dispute_obj(2500, status="won"))
    send(client, "charge.dispute.funds_reinstated", dispute_obj(2500, status="won"))
    assert Donation.objects.get(provider="stripe").disputed == 0
    assert collected(client) == "€708"
    assert reconcile().ok


def dispute_obj(amount, status="needs_response", dispute_id="dp_1"):
    return {
        "id": dispute_id,
        "object": "dispute",
        "amount": amount,
        "currency": "eur",
        "charge": "ch_test_1",
        "payment_intent": "pi_test_1",
        "status": status,
    }


def test_a_refund_and_a_dispute_on_one_charge_are_counted_apart(client, funded_campaign, fake_stripe):
    start_card_donation(client)
    session = Donation.objects.get(provider="stripe").checkout_reference
    send(client, "checkout.session.completed", session_completed(session))
    send(client, "charge.dispute.created", dispute_obj(1000))
    send(client, "charge.refunded", charge_refunded(1000))
    donation = Donation.objects.get(provider="stripe")
    assert (donation.disputed, donation.refunded) == (1000, 1000)
    assert collected(client) == "€688"
    assert reconcile().ok


def test_an_inquiry_takes_no_money(client, funded_campaign, fake_stripe):
    start_card_donation(client)
    session = Donation.objects.get(provider="stripe").checkout_reference
    send(client, "checkout.session.completed", session_completed(session))
    assert (
        send(client, "charge.dispute.created", dispute_obj(2500, status="warning_needs_response")).status_code == 200
    )
    assert Donation.objects.get(provider="stripe").disputed == 0
    assert collected(client) == "€708"


def test_a_payment_without_an_amount_is_never_guessed(client, funded_campaign, fake_stripe):
    start_card_donation(client)
    session = Donation.objects.get(provider="stripe").checkout_reference
    send(client, "checkout.session.completed", session_completed(session, amount=0))
    assert Donation.objects.get(provider="stripe").status == DonationStatus.PENDING
    assert PaymentEventRecord.objects.get().status == EventStatus.ATTENTION
    report = reconcile()
    assert not report.ok and any("attention" in p for p in report.problems)


def test_a_deferred_refund_delivered_again_is_retried(client, funded_campaign, fake_stripe, monkeypatch):
    from zbor.donations import events

    start_card_donation(client)
    session = Donation.objects.get(provider="stripe").checkout_reference
    send(client, "charge.refunded", charge_refunded(500), event_id="evt_refund")
    monkeypatch.setattr(events, "retry_deferred", lambda *a: None)  # as if the retry were lost
    send(client, "checkout.session.completed", session_completed(session))
    assert Donation.objects.get(provider="stripe").refunded == 0
    send(client, "charge.refunded", charge_refunded(500), event_id="evt_refund")  # Stripe retries
    assert Donation.objects.get(provider="stripe").refunded == 500


def test_a_bad_signature_is_400_and_nothing_is_stored(client, funded_campaign, fake_stripe):
    start_card_donation(client)
    session = Donation.objects.get(provider="stripe").checkout_reference
    assert (
        send(client, "checkout.session.completed", session_completed(session), secret="whsec_wrong").status_code == 400
    )
    assert (
        send(client, "checkout.session.completed", session_completed(session), signature="t=1,v1=deadbeef").status_code
        == 400
    )
    assert client.post("/webhooks/stripe/", "not json", content_type="application/json").status_code == 400
    assert not PaymentEventRecord.objects.exists()
    assert Donation.objects.get(provider="stripe").status == DonationStatus.PENDING


def test_a_timestamp_outside_the_tolerance_is_400(client, funded_campaign, fake_stripe):
    start_card_donation(client)
    session = Donation.objects.get(provider="stripe").checkout_reference
    old = int(time.time()) - 3600
    assert send(client, "checkout.session.completed", session_completed(session), timestamp=old).status_code == 400
    assert not PaymentEventRecord.objects.exists()


def test_an_unknown_event_type_is_200_and_ignored(client, funded_campaign, fake_stripe):
    assert send(client, "customer.created", {"id": "cus_1", "object": "customer"}).status_code == 200
    assert not PaymentEventRecord.objects.exists()


def test_expired_and_failed_sessions_end_the_donation_without_money(client, funded_campaign, fake_stripe):
    start_card_donation(client, amount="10")
    start_card_donation(client, amount="11")
    first, second = Donation.objects.filter(provider="stripe").order_by("amount")
    send(client, "checkout.session.expired", {"id": first.checkout_reference, "object": "checkout.session"})
    send(
        client,
        "checkout.session.async_payment_failed",
        {"id": second.checkout_reference, "object": "checkout.session", "payment_intent": "pi_x"},
    )
    statuses = set(Donation.objects.filter(provider="stripe").values_list("status", flat=True))
    assert statuses == {DonationStatus.EXPIRED, DonationStatus.FAILED}
    assert not Transfer.objects.filter(group__reference__in=[first.reference, second.reference]).exists()


def test_an_async_payment_succeeds_later(client, funded_campaign, fake_stripe):
    start_card_donation(client)
    session = Donation.objects.get(provider="stripe").checkout_reference
    pending = {**session_completed(session), "payment_status": "unpaid"}
    assert send(client, "checkout.session.completed", pending).status_code == 200
    assert Donation.objects.get(provider="stripe").status == DonationStatus.PENDING
    send(client, "checkout.session.async_payment_succeeded", session_completed(session))
    assert Donation.objects.get(provider="stripe").status == DonationStatus.SUCCEEDED


def test_a_crash_between_confirmation_and_ledger_write_loses_nothing(
    client, funded_campaign, fake_stripe, monkeypatch
):
    from zbor.donations.services import posting as services

    start_card_donation(client)
    session = Donation.objects.get(provider="stripe").checkout_reference
    real = services.post_new_groups

    def crash(*args, **kwargs):
        raise ConnectionResetError("the process died here")

    monkeypatch.setattr(services, "post_new_groups", crash)
    crashing = Client(raise_request_exception=False)
    assert (
        send(crashing, "checkout.session.completed", session_completed(session), event_id="evt_crash").status_code
        == 500
    )
    assert PaymentEventRecord.objects.get().status == EventStatus.FAILED
    assert Donation.objects.get(provider="stripe").status == DonationStatus.PENDING
    monkeypatch.setattr(services, "post_new_groups", real)
    assert (
        send(client, "checkout.session.completed", session_completed(session), event_id="evt_crash").status_code == 200
    )
    assert (
        send(client, "checkout.session.completed", session_completed(session), event_id="evt_crash").status_code == 200
    )
    assert Donation.objects.get(provider="stripe").status == DonationStatus.SUCCEEDED
    assert collected(client) == "€708"
    assert reconcile().ok


def test_stripe_refusing_the_checkout_shows_a_message_and_charges_nothing(client, funded_campaign, fake_stripe):
    fake_stripe.fail_next = True
    response = client.post(
        f"/en/campaigns/{CAMPAIGN}/donate/",
        {
            "amount": "25",
            "method": "stripe",
            "idempotency_key": uuid.uuid4().hex,
            "challenge": factories.solved_challenge(),
        },
    )
    assert response.status_code == 400 and "could not be started" in response.content.decode()


def test_reconcile_matches_a_stripe_balance_export(client, funded_campaign, fake_stripe, tmp_path, capsys):
    start_card_donation(client)
    session = Donation.objects.get(provider="stripe").checkout_reference
    send(client, "checkout.session.completed", session_completed(session))
    send(client, "charge.refunded", charge_refunded(500))
    export = tmp_path / "balance.csv"
    export.write_text(
        "id,Type,Source,Amount,Fee,Net,Currency,Created (UTC)\n"
        "txn_1,charge,ch_test_1,25.00,0.98,24.02,eur,2026-11-29 10:00\n"
        "txn_2,refund,ch_test_1,-5.00,0.00,-5.00,eur,2026-11-29 11:00\n"
    )
    call_command("reconcile", stripe_export=export)
    assert "clean: no differences" in capsys.readouterr().out
    export.write_text(
        "id,Type,Source,Amount,Fee,Net,Currency,Created (UTC)\n"
        "txn_1,charge,ch_test_1,26.00,0.98,25.02,eur,2026-11-29 10:00\n"
    )
    with pytest.raises(SystemExit) as exited:
        call_command("reconcile", stripe_export=export)
    assert exited.value.code == 1
    out = capsys.readouterr().out
    assert "DIFFERENCE: Stripe charge ch_test_1" in out


def test_reconcile_finds_a_refund_zbor_booked_that_stripe_never_made(client, funded_campaign, fake_stripe, tmp_path):
    from zbor.donations.reconcile import reconcile as run

    start_card_donation(client)
    session = Donation.objects.get(provider="stripe").checkout_reference
    send(client, "checkout.session.completed", session_completed(session))
    send(client, "charge.refunded", charge_refunded(500))
    export = (
        b"id,Type,Source,Amount,Fee,Net,Currency,Created (UTC)\n"
        b"txn_1,charge,ch_test_1,25.00,0.98,24.02,eur,2000-01-01 10:00\n"
        b"txn_9,charge,ch_other,9.00,0.30,8.70,eur,2000-01-01 11:00\n"
    )
    problems = " ".join(run(stripe_export=export).problems)
    assert "ch_other" in problems  # a charge Zbor does not know
    export = (
        "id,Type,Source,Amount,Fee,Net,Currency,Created (UTC)\n"
        f"txn_1,charge,ch_test_1,25.00,0.98,24.02,eur,{timezone_now()}\n"
    ).encode()
    problems = " ".join(run(stripe_export=export).problems)
    assert "refunds: the Stripe export has 0" in problems


def timezone_now():
    from django.utils import timezone

    return timezone.now().strftime("%Y-%m-%d %H:%M:%S")
