"""Card refunds staff give through the provider's API (issue 16): requested by one person in
finance, approved by another, sent to Stripe through the real SDK (against tests/fake_stripe.py)
and booked exactly once, whichever of Stripe's answer and its webhooks comes first; a refund
Stripe refuses, fails or does not answer books nothing and says why."""

import json
import time
import uuid
from datetime import timedelta

import pytest
import stripe
from django.utils import timezone

from tests import factories
from tests.fake_stripe import stripe_enabled
from zbor.accounts.models import AuditEvent
from zbor.donations import services
from zbor.donations.exceptions import DonationRefused, NotInReview
from zbor.donations.models import Donation, Refund, RefundStatus
from zbor.donations.reconcile import reconcile
from zbor.ledger.models import TransferGroup
from zbor.ledger.selectors import credit_balances
from zbor.payments.models import EventStatus, PaymentEventRecord

pytestmark = pytest.mark.django_db
SECRET = "whsec_refund_secret"


@pytest.fixture
def fake(settings):
    with stripe_enabled(settings, SECRET) as fake:
        yield fake


@pytest.fixture
def people():
    return [factories.role_user("finance", f"card-fin-{n}") for n in range(2)]


def card_gift(campaign, fake, amount: int, need=None) -> Donation:
    pi = f"pi_{uuid.uuid4().hex[:14]}"
    donation = Donation.objects.create(
        campaign=campaign,
        need=need,
        amount=amount,
        currency=campaign.currency,
        provider="stripe",
        checkout_reference=f"cs_{uuid.uuid4().hex}",
        idempotency_key=uuid.uuid4().hex,
    )
    services.confirm_donation(donation, amount=amount, payment_reference=pi, charge_reference="ch_" + pi[3:])
    fake.add_payment(pi, amount)
    donation.refresh_from_db()
    return donation


def send(client, event_type, obj, *, event_id=None):
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
    header = stripe.WebhookSignature.generate_signature_header(payload, SECRET)
    response = client.post(
        "/webhooks/stripe/", payload, content_type="application/json", headers={"stripe-signature": header}
    )
    assert response.status_code == 200, response.content
    return response


def charge_refunded(fake, donation):
    charge = fake.payments[donation.payment_reference]
    return {
        "id": charge["id"],
        "object": "charge",
        "amount": charge["amount"],
        "amount_refunded": charge["amount_refunded"],
        "currency": "eur",
        "payment_intent": donation.payment_reference,
        "refunded": charge["amount_refunded"] == charge["amount"],
    }


def refund_requests(fake):
    return [r for r in fake.requests if r["path"] == "/v1/refunds"]


def booked_groups(donation):
    return TransferGroup.objects.filter(reference=donation.reference, kind="refund").count()


def test_a_whole_card_refund_goes_through_stripe_and_is_booked(campaign, fake, people):
    donation = card_gift(campaign, fake, 5000)
    refund = services.request_refund(donation, amount=5000, reason="Donor asked", by=people[0])
    assert refund_requests(fake) == []  # nothing is sent before the second person approves
    services.approve_refund(refund, by=people[1])
    [request] = refund_requests(fake)
    assert request["form"]["payment_intent"] == [donation.payment_reference]
    assert request["form"]["amount"] == ["5000"]
    assert request["form"]["metadata[zbor_refund]"] == [str(refund.pk)]
    assert request["headers"]["Idempotency-Key"] == refund.idempotency_key
    donation.refresh_from_db()
    assert (refund.status, refund.provider_refund_id, refund.provider_status) == (
        RefundStatus.BOOKED,
        "re_test_1",
        "succeeded",
    )
    assert donation.refunded == 5000 and booked_groups(donation) == 1
    assert credit_balances(["refunds:stripe:EUR"]) == {"refunds:stripe:EUR": 5000}
    assert {"refund.request", "refund.approve", "refund.book"} <= set(
        AuditEvent.objects.filter(object_id=str(refund.pk)).values_list("action", flat=True)
    )
    assert reconcile().ok, reconcile().lines()


def test_partial_card_refunds_add_up_to_the_gift_and_stripe_refuses_more(campaign, fake, people):
    donation = card_gift(campaign, fake, 5000)
    for amount in (1000, 1500, 2500):
        refund = services.request_refund(donation, amount=amount, reason="Part", by=people[0])
        services.approve_refund(refund, by=people[1])
        assert refund.status == RefundStatus.BOOKED
    donation.refresh_from_db()
    assert donation.refunded == 5000 and booked_groups(donation) == 3
    assert fake.payments[donation.payment_reference]["amount_refunded"] == 5000
    with pytest.raises(DonationRefused, match="at most"):
        services.request_refund(donation, amount=1, reason="More", by=people[0])


def test_replayed_and_out_of_order_webhooks_after_an_api_refund_book_once(client, campaign, fake, people):
    donation = card_gift(campaign, fake, 5000)
    first = services.request_refund(donation, amount=2000, reason="Part", by=people[0])
    services.approve_refund(first, by=people[1])
    early = charge_refunded(fake, donation)  # amount_refunded 2000
    second = services.request_refund(donation, amount=1000, reason="More", by=people[0])
    services.approve_refund(second, by=people[1])
    late = charge_refunded(fake, donation)  # amount_refunded 3000
    # Stripe's events arrive after the answers, the later first, each twice.
    for event_type, obj in [
        ("charge.refunded", late),
        ("refund.updated", fake.refunds[second.provider_refund_id]),
        ("charge.refunded", early),
        ("refund.created", fake.refunds[first.provider_refund_id]),
    ]:
        send(client, event_type, obj, event_id=f"evt_{event_type}_{obj['id']}_{obj.get('amount_refunded', '')}")
        send(client, event_type, obj, event_id=f"evt_{event_type}_{obj['id']}_{obj.get('amount_refunded', '')}")
    donation.refresh_from_db()
    assert donation.refunded == 3000 and booked_groups(donation) == 2
    assert reconcile().ok, reconcile().lines()


def test_a_webhook_that_comes_before_the_answer_books_it_and_the_answer_changes_nothing(
    client, campaign, fake, people
):
    donation = card_gift(campaign, fake, 5000)
    fake.refund_status = "pending"  # Stripe answers "pending": not booked yet
    refund = services.request_refund(donation, amount=2000, reason="Part", by=people[0])
    services.approve_refund(refund, by=people[1])
    assert (refund.status, refund.provider_status) == (RefundStatus.SENT, "pending")
    # Stripe counts the pending refund in the charge's total: that event must not book it.
    send(client, "charge.refunded", charge_refunded(fake, donation))
    donation.refresh_from_db()
    assert donation.refunded == 0
    # It succeeds: refund.updated books it, once however often it comes.
    obj = {**fake.refunds[refund.provider_refund_id], "status": "succeeded"}
    send(client, "refund.updated", obj, event_id="evt_refund_ok")
    send(client, "refund.updated", obj, event_id="evt_refund_ok_again")
    # The answer of a second approval (Stripe returns the same refund) changes nothing.
    with pytest.raises(NotInReview):
        services.approve_refund(refund, by=people[1])
    refund.refresh_from_db()
    donation.refresh_from_db()
    assert (refund.status, donation.refunded, booked_groups(donation)) == (RefundStatus.BOOKED, 2000, 1)


def test_an_event_with_zbors_number_books_a_refund_whose_answer_was_lost(client, campaign, fake, people):
    donation = card_gift(campaign, fake, 5000)
    refund = services.request_refund(donation, amount=5000, reason="Donor asked", by=people[0])
    # Stripe made the refund, but no answer came back, for the SDK's own retries neither.
    fake.lose_answer_next, fake.drop_next = 1, 2
    with pytest.raises(DonationRefused, match="did not answer"):
        services.approve_refund(refund, by=people[1])
    refund.refresh_from_db()
    donation.refresh_from_db()
    assert (refund.status, refund.provider_refund_id, donation.refunded) == (RefundStatus.SENT, "", 0)
    assert refund.failure
    # Stripe's cumulative total counts it: it stays unbooked until the refund itself is known.
    send(client, "charge.refunded", charge_refunded(fake, donation))
    donation.refresh_from_db()
    assert donation.refunded == 0
    [made] = fake.refunds.values()
    send(client, "refund.created", made)
    refund.refresh_from_db()
    donation.refresh_from_db()
    assert (refund.status, refund.provider_refund_id, donation.refunded) == (RefundStatus.BOOKED, made["id"], 5000)
    assert len(fake.refunds) == 1


def test_approving_again_after_no_answer_asks_with_the_same_key_and_refunds_once(campaign, fake, people):
    donation = card_gift(campaign, fake, 5000)
    refund = services.request_refund(donation, amount=3000, reason="Part", by=people[0])
    fake.lose_answer_next, fake.drop_next = 1, 2
    with pytest.raises(DonationRefused, match="did not answer"):
        services.approve_refund(refund, by=people[1])
    with pytest.raises(DonationRefused, match="someone else"):
        services.approve_refund(refund, by=people[0])  # still four eyes
    services.approve_refund(refund, by=people[1])
    keys = {r["headers"]["Idempotency-Key"] for r in refund_requests(fake)}
    donation.refresh_from_db()
    assert keys == {refund.idempotency_key} and len(fake.refunds) == 1
    assert (refund.status, donation.refunded, booked_groups(donation)) == (RefundStatus.BOOKED, 3000, 1)


def test_a_refund_unanswered_for_a_day_is_not_asked_again(campaign, fake, people):
    # Stripe keeps an idempotency key's answer for 24 hours: later the same key could refund twice.
    donation = card_gift(campaign, fake, 5000)
    refund = services.request_refund(donation, amount=3000, reason="Part", by=people[0])
    fake.drop_next = 3
    with pytest.raises(DonationRefused, match="did not answer"):
        services.approve_refund(refund, by=people[1])
    Refund.objects.filter(pk=refund.pk).update(decided_at=timezone.now() - timedelta(hours=24))
    with pytest.raises(DonationRefused, match="more than a day ago"):
        services.approve_refund(refund, by=people[1])
    assert fake.refunds == {}


def test_a_refund_stripe_refuses_books_nothing_and_says_why(campaign, fake, people):
    donation = card_gift(campaign, fake, 5000)
    fake.payments[donation.payment_reference]["amount_refunded"] = 4500  # refunded in the dashboard meanwhile
    refund = services.request_refund(donation, amount=1000, reason="Donor asked", by=people[0])
    with pytest.raises(DonationRefused, match="refused the refund: .*amount_too_large"):
        services.approve_refund(refund, by=people[1])
    refund.refresh_from_db()
    donation.refresh_from_db()
    assert refund.status == RefundStatus.FAILED and "greater than unrefunded amount" in refund.failure
    assert donation.refunded == 0 and booked_groups(donation) == 0
    # It may be requested again, for what is left.
    again = services.request_refund(donation, amount=500, reason="What is left", by=people[0])
    services.approve_refund(again, by=people[1])
    assert again.status == RefundStatus.BOOKED


def test_a_charge_already_refunded_is_refused_in_stripes_words(campaign, fake, people):
    donation = card_gift(campaign, fake, 5000)
    fake.payments[donation.payment_reference]["amount_refunded"] = 5000
    refund = services.request_refund(donation, amount=5000, reason="Donor asked", by=people[0])
    with pytest.raises(DonationRefused, match="charge_already_refunded"):
        services.approve_refund(refund, by=people[1])
    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED and "has already been refunded" in refund.failure


def test_a_refund_that_fails_later_is_never_booked(client, campaign, fake, people):
    donation = card_gift(campaign, fake, 5000)
    fake.refund_status = "pending"
    refund = services.request_refund(donation, amount=5000, reason="Donor asked", by=people[0])
    services.approve_refund(refund, by=people[1])
    failed = {**fake.refunds[refund.provider_refund_id], "status": "failed", "failure_reason": "lost_or_stolen_card"}
    send(client, "refund.failed", failed)
    refund.refresh_from_db()
    donation.refresh_from_db()
    assert (refund.status, refund.failure, donation.refunded) == (RefundStatus.FAILED, "lost_or_stolen_card", 0)
    assert services.refundable(donation) == 5000  # it may be requested again


def test_late_events_never_undo_a_refunds_end_at_stripe(client, campaign, fake, people):
    donation = card_gift(campaign, fake, 5000)
    fake.refund_status = "pending"
    refund = services.request_refund(donation, amount=5000, reason="Donor asked", by=people[0])
    services.approve_refund(refund, by=people[1])
    made = fake.refunds[refund.provider_refund_id]
    send(client, "refund.failed", {**made, "status": "failed", "failure_reason": "unknown"})
    send(client, "refund.created", made)  # pending, delivered late
    send(client, "refund.updated", {**made, "status": "succeeded"})  # older than its failure
    refund.refresh_from_db()
    donation.refresh_from_db()
    assert (refund.status, refund.provider_status, donation.refunded) == (RefundStatus.FAILED, "failed", 0)


def test_a_refund_booked_that_stripe_later_fails_is_left_for_finance(client, campaign, fake, people):
    donation = card_gift(campaign, fake, 5000)
    refund = services.request_refund(donation, amount=5000, reason="Donor asked", by=people[0])
    services.approve_refund(refund, by=people[1])
    made = fake.refunds[refund.provider_refund_id]
    send(client, "refund.updated", {**made, "status": "pending"}, event_id="evt_stale")
    send(client, "refund.failed", {**made, "status": "failed"}, event_id="evt_failed_after")
    refund.refresh_from_db()
    assert (refund.status, refund.provider_status) == (RefundStatus.BOOKED, "failed")
    assert PaymentEventRecord.objects.get(event_id="evt_failed_after").status == EventStatus.ATTENTION
    assert PaymentEventRecord.objects.get(event_id="evt_stale").status == EventStatus.PROCESSED


def test_a_refund_stripe_answers_as_failed_is_refused_at_once(campaign, fake, people):
    donation = card_gift(campaign, fake, 5000)
    fake.refund_status = "failed"
    refund = services.request_refund(donation, amount=5000, reason="Donor asked", by=people[0])
    with pytest.raises(DonationRefused, match="expired_or_canceled_card"):
        services.approve_refund(refund, by=people[1])
    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED
    assert Donation.objects.get(pk=donation.pk).refunded == 0


def test_the_requester_cannot_approve_a_card_refund(campaign, fake, people):
    donation = card_gift(campaign, fake, 5000)
    refund = services.request_refund(donation, amount=5000, reason="Donor asked", by=people[0])
    with pytest.raises(DonationRefused, match="someone else"):
        services.approve_refund(refund, by=people[0])
    refund.refresh_from_db()
    assert refund.status == RefundStatus.REQUESTED and refund_requests(fake) == []


def test_a_dashboard_refund_is_still_booked_by_its_charge_event(client, campaign, fake, people):
    donation = card_gift(campaign, fake, 5000)
    fake.create_refund({"payment_intent": donation.payment_reference, "amount": "1200"})
    send(client, "refund.created", fake.refunds["re_test_1"])  # not Zbor's: ignored
    send(client, "charge.refunded", charge_refunded(fake, donation))
    donation.refresh_from_db()
    assert donation.refunded == 1200
    assert PaymentEventRecord.objects.filter(type="refund_updated", status=EventStatus.IGNORED).count() == 1


def refund_problems() -> list[str]:
    return [p for p in reconcile().problems if "card refund(s)" in p]


def test_reconcile_names_a_card_refund_left_unanswered_or_pending_too_long(campaign, fake, people):
    unanswered = services.request_refund(card_gift(campaign, fake, 5000), amount=3000, reason="Part", by=people[0])
    fake.drop_next = 3
    with pytest.raises(DonationRefused, match="did not answer"):
        services.approve_refund(unanswered, by=people[1])
    assert refund_problems() == []  # just sent: its event may still come
    Refund.objects.filter(pk=unanswered.pk).update(decided_at=timezone.now() - timedelta(minutes=6))
    (problem,) = refund_problems()
    assert problem.startswith("1 card refund(s) approved and sent to the provider but not settled")
    assert f"refund #{unanswered.pk} of donation #{unanswered.donation_id}" in problem and "never answered" in problem

    fake.refund_status = "pending"
    pending = services.request_refund(card_gift(campaign, fake, 4000), amount=4000, reason="All", by=people[0])
    services.approve_refund(pending, by=people[1])
    pending.refresh_from_db()
    assert pending.status == RefundStatus.SENT and pending.provider_refund_id
    Refund.objects.filter(pk=pending.pk).update(decided_at=timezone.now() - timedelta(days=3))
    assert len(refund_problems()) == 1  # a bank may take days: three are within the ten allowed
    Refund.objects.filter(pk=pending.pk).update(decided_at=timezone.now() - timedelta(days=11))
    (problem,) = refund_problems()
    assert problem.startswith("2 card refund(s)") and f"refund #{pending.pk} " in problem
    assert f"pending as {pending.provider_refund_id}" in problem
