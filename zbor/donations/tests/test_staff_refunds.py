"""Refunds staff give of bank and demo gifts, with four eyes (issue 16): requested by one person
in finance, approved by another, then booked as a reversing ledger group; a card gift is
refunded through its provider (test_card_refunds.py)."""

import uuid

import pytest
from django.core.exceptions import PermissionDenied

from tests import factories
from zbor.accounts.models import AuditEvent
from zbor.campaigns.models import Need
from zbor.donations import services
from zbor.donations.exceptions import DonationRefused, NotInReview
from zbor.donations.models import Donation, DonationStatus, Refund, RefundStatus
from zbor.donations.reconcile import reconcile
from zbor.donations.selectors import campaign_money
from zbor.donations.tests.test_refund_cover import _pay_out
from zbor.ledger.selectors import credit_balances

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return [factories.role_user("finance", f"fin-{n}") for n in range(2)]


def gift(campaign, amount: int, provider: str = "demo") -> Donation:
    if provider == "demo":
        return services.record_demo_donation(campaign, amount=amount)
    donation = Donation.objects.create(
        campaign=campaign,
        amount=amount,
        currency=campaign.currency,
        provider=provider,
        checkout_reference=f"cs_{uuid.uuid4().hex}",
        idempotency_key=uuid.uuid4().hex,
    )
    services.confirm_donation(donation, amount=amount)
    donation.refresh_from_db()
    return donation


def test_a_refund_requested_by_one_and_approved_by_another_is_booked(campaign, people):
    donation = gift(campaign, 5000)
    before = campaign_money(campaign.pk, []).collected
    refund = services.request_refund(donation, amount=2000, reason="Sent twice by mistake", by=people[0])
    assert refund.status == RefundStatus.REQUESTED and campaign_money(campaign.pk, []).collected == before
    with pytest.raises(DonationRefused, match="someone else"):
        services.approve_refund(refund, by=people[0])
    services.approve_refund(refund, by=people[1])
    donation.refresh_from_db()
    assert (refund.status, refund.decided_by, donation.refunded) == (RefundStatus.BOOKED, people[1], 2000)
    assert campaign_money(campaign.pk, []).collected == before - 2000
    assert credit_balances(["refunds:demo:EUR"]) == {"refunds:demo:EUR": 2000}
    assert {e.action for e in AuditEvent.objects.filter(object_id=str(refund.pk))} >= {
        "refund.request",
        "refund.approve",
    }
    with pytest.raises(NotInReview):
        services.approve_refund(refund, by=people[1])
    assert reconcile().ok, reconcile().lines()


def test_a_refund_cannot_ask_back_more_than_the_gift_still_holds(campaign, people):
    donation = gift(campaign, 5000)
    services.request_refund(donation, amount=4000, reason="Part", by=people[0])
    with pytest.raises(DonationRefused, match="at most"):
        services.request_refund(donation, amount=1001, reason="More", by=people[0])
    with pytest.raises(DonationRefused, match="Say why"):
        services.request_refund(donation, amount=100, reason=" ", by=people[0])


def test_a_rejected_refund_books_nothing(campaign, people):
    donation = gift(campaign, 5000, provider="bank")
    refund = services.request_refund(donation, amount=5000, reason="Donor asked", by=people[0])
    services.reject_refund(refund, by=people[1])
    donation.refresh_from_db()
    assert (refund.status, donation.refunded) == (RefundStatus.REJECTED, 0)


def test_a_card_gift_whose_provider_is_not_set_up_is_refused(campaign, people):
    # Card refunds through the provider: zbor/donations/tests/test_card_refunds.py.
    donation = gift(campaign, 5000, provider="stripe")
    with pytest.raises(DonationRefused, match="not set up here"):
        services.request_refund(donation, amount=100, reason="Donor asked", by=people[0])


@pytest.mark.parametrize("role", [None, "editor", "admin"])
def test_only_finance_requests_and_approves(campaign, people, role):
    user = factories.role_user(role) if role else factories.staff_user(superuser=False)
    donation = gift(campaign, 5000)
    with pytest.raises(PermissionDenied):
        services.request_refund(donation, amount=100, reason="x", by=user)
    refund = services.request_refund(donation, amount=100, reason="x", by=people[0])
    with pytest.raises(PermissionDenied):
        services.approve_refund(refund, by=user)


def test_the_admin_requests_and_a_second_person_approves(client, campaign, people):
    donation = gift(campaign, 5000)
    client.force_login(people[0])
    response = client.post(
        "/backoffice/donations/refund/add/",
        {"donation": str(donation.pk), "amount": "12.50", "reason": "Donor asked", "cover": "automatic"},
        follow=True,
    )
    assert response.status_code == 200
    refund = Refund.objects.get(donation=donation)
    assert refund.amount == 1250
    client.force_login(people[1])
    client.post(
        "/backoffice/donations/refund/", {"action": "approve", "_selected_action": [str(refund.pk)]}, follow=True
    )
    refund.refresh_from_db()
    assert refund.status == RefundStatus.BOOKED


def test_refunding_money_already_paid_out_is_covered_not_overdrawn(campaign, people):
    need = Need.objects.filter(campaign=campaign).order_by("position").first()
    donation = services.record_demo_donation(campaign, amount=need.amount, need=need)
    _pay_out(need, need.amount)
    refund = services.request_refund(donation, amount=1000, reason="Donor asked", by=people[0])
    services.approve_refund(refund, by=people[1])
    assert credit_balances([f"need:{need.pk}"]) == {f"need:{need.pk}": 0}
    assert credit_balances(["reserve:EUR"])["reserve:EUR"] == -1000
    assert reconcile().ok, reconcile().lines()
    assert DonationStatus.SUCCEEDED == Donation.objects.get(pk=donation.pk).status
