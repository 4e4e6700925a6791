"""Where a refund of money already paid out from a need comes from, as finance chose with the
request (issue 16): the campaign's unallocated money, the foundation's reserve, or the first
then the second; an unallocated cover that holds too little refuses the approval, nothing
booked or sent to the card provider. Bank, demo and card refunds alike."""

import pytest

from tests import factories
from tests.fake_stripe import stripe_enabled
from zbor.campaigns.models import Need
from zbor.donations import services
from zbor.donations.exceptions import DonationRefused
from zbor.donations.models import RefundCover, RefundStatus
from zbor.donations.reconcile import reconcile
from zbor.donations.tests.test_card_refunds import SECRET, card_gift, refund_requests
from zbor.donations.tests.test_refund_cover import _pay_out
from zbor.ledger.chart import unallocated_code
from zbor.ledger.selectors import credit_balances

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake(settings):
    with stripe_enabled(settings, SECRET) as fake:
        yield fake


@pytest.fixture
def people():
    return [factories.role_user("finance", f"cover-fin-{n}") for n in range(2)]


@pytest.mark.parametrize("provider", ["demo", "stripe"])
def test_a_refund_covered_from_unallocated_money_refuses_when_it_holds_too_little(campaign, fake, people, provider):
    need = Need.objects.filter(campaign=campaign).order_by("position").first()
    if provider == "demo":
        donation = services.record_demo_donation(campaign, amount=need.amount, need=need)
    else:
        donation = card_gift(campaign, fake, need.amount, need=need)
    _pay_out(need, need.amount)
    refund = services.request_refund(
        donation, amount=1000, reason="Donor asked", by=people[0], cover=RefundCover.UNALLOCATED
    )
    with pytest.raises(DonationRefused, match="unallocated money holds too little"):
        services.approve_refund(refund, by=people[1])
    refund.refresh_from_db()
    donation.refresh_from_db()
    assert (refund.status, donation.refunded, refund_requests(fake)) == (RefundStatus.REQUESTED, 0, [])
    # Money beyond the goal arrives: now it covers the refund.
    services.record_demo_donation(campaign, amount=sum(n.amount for n in Need.objects.filter(campaign=campaign)))
    unallocated = unallocated_code(campaign.pk)
    before = credit_balances([unallocated])[unallocated]
    services.approve_refund(refund, by=people[1])
    refund.refresh_from_db()
    assert refund.status == RefundStatus.BOOKED
    assert credit_balances([unallocated, f"need:{need.pk}"]) == {unallocated: before - 1000, f"need:{need.pk}": 0}
    assert credit_balances(["reserve:EUR"]).get("reserve:EUR", 0) == 0
    assert reconcile().ok, reconcile().lines()


def test_a_refund_covered_from_the_reserve_leaves_unallocated_money_alone(campaign, people):
    need = Need.objects.filter(campaign=campaign).order_by("position").first()
    donation = services.record_demo_donation(campaign, amount=need.amount, need=need)
    services.record_demo_donation(campaign, amount=sum(n.amount for n in Need.objects.filter(campaign=campaign)))
    _pay_out(need, need.amount)
    unallocated = unallocated_code(campaign.pk)
    before = credit_balances([unallocated])[unallocated]
    refund = services.request_refund(donation, amount=1000, reason="Donor asked", by=people[0], cover="reserve")
    services.approve_refund(refund, by=people[1])
    assert credit_balances([unallocated, "reserve:EUR"]) == {unallocated: before, "reserve:EUR": -1000}
    assert reconcile().ok, reconcile().lines()


def test_automatic_cover_takes_unallocated_money_first_then_the_reserve(campaign, people):
    need = Need.objects.filter(campaign=campaign).order_by("position").first()
    donation = services.record_demo_donation(campaign, amount=need.amount, need=need)
    goal = sum(n.amount for n in Need.objects.filter(campaign=campaign))
    services.record_demo_donation(campaign, amount=goal - need.amount + 600)  # 600 beyond the goal
    _pay_out(need, need.amount)
    unallocated = unallocated_code(campaign.pk)
    assert credit_balances([unallocated])[unallocated] == 600
    refund = services.request_refund(donation, amount=1000, reason="Donor asked", by=people[0])
    assert refund.cover == RefundCover.AUTOMATIC
    services.approve_refund(refund, by=people[1])
    assert credit_balances([unallocated, "reserve:EUR"]) == {unallocated: 0, "reserve:EUR": -400}
