"""A refund or dispute of money a need already paid out never leaves a campaign account below
zero: it is covered from the campaign's money beyond its goal, then from the foundation's
reserve, and every public figure stays consistent (issue 16)."""

import uuid

import pytest

from tests import factories
from zbor.campaigns.models import Need
from zbor.disbursements import services as payouts
from zbor.disbursements.tests.test_payouts import receipt
from zbor.donations import services
from zbor.donations.events import receive_event
from zbor.donations.reconcile import reconcile
from zbor.donations.selectors import campaign_money, foundation_totals
from zbor.ledger.selectors import credit_balances
from zbor.payments.base import EventType, PaymentEvent

pytestmark = pytest.mark.django_db


def _paid(campaign, amount, need=None):
    donation = services.start_donation(
        campaign, amount=amount, need=need, provider="demo", idempotency_key=uuid.uuid4().hex
    )
    receive_event(_event(donation, EventType.SUCCEEDED, amount))
    donation.refresh_from_db()
    return donation


def _event(donation, kind, amount):
    return PaymentEvent(
        provider="demo",
        event_id=f"evt_{uuid.uuid4().hex}",
        type=kind,
        checkout_reference=donation.checkout_reference,
        payment_reference=donation.checkout_reference,
        amount=amount,
        currency=donation.currency,
    )


def _pay_out(need, amount):
    finance, second = factories.role_user("finance"), factories.role_user("finance")
    payout = payouts.request_payout(need, amount=amount, channel="cash", recipient="x", purpose="rent", by=finance)
    payouts.approve_payout(payout, by=second)
    payouts.mark_paid(payout, by=finance, proof=receipt())


def _figures(campaign, need):
    money = campaign_money(campaign.pk, [need.pk])
    totals = foundation_totals()["EUR"]
    return {
        "collected": money.collected,
        "raised for the need": money.raised_by_need[need.pk],
        "beyond the goal": money.beyond_goal,
        "transparency collected": totals.collected,
        "transparency paid": sum(paid for _collected, paid in totals.months.values()),
    }


def test_a_refund_of_money_already_paid_out_is_covered_by_the_reserve():
    campaign = factories.campaign(needs=(50000,))
    need = Need.objects.get(campaign=campaign)
    donation = _paid(campaign, 50000, need)
    _pay_out(need, 50000)
    receive_event(_event(donation, EventType.REFUNDED, 10000))
    balances = credit_balances([f"need:{need.pk}", f"payouts:need:{need.pk}", "reserve:EUR"])
    assert balances == {f"need:{need.pk}": 0, f"payouts:need:{need.pk}": 50000, "reserve:EUR": -10000}
    # What was paid out was collected: the page says so, never "Paid out €500 of €400 collected".
    assert _figures(campaign, need) == {
        "collected": 50000,
        "raised for the need": 50000,
        "beyond the goal": 0,
        "transparency collected": 50000,
        "transparency paid": 50000,
    }
    donation.refresh_from_db()
    assert donation.refunded == 10000
    assert reconcile().ok, reconcile().lines()


def test_money_beyond_the_goal_covers_it_first_and_the_reserve_the_rest():
    campaign = factories.campaign(needs=(50000,))
    need = Need.objects.get(campaign=campaign)
    donation = _paid(campaign, 50000, need)
    _paid(campaign, 3000)  # the goal is reached: beyond it
    _pay_out(need, 50000)
    receive_event(_event(donation, EventType.REFUNDED, 5000))
    balances = credit_balances([f"need:{need.pk}", f"campaign:{campaign.pk}:unallocated", "reserve:EUR"])
    assert balances == {f"need:{need.pk}": 0, f"campaign:{campaign.pk}:unallocated": 0, "reserve:EUR": -2000}
    figures = _figures(campaign, need)
    assert figures["collected"] == 50000 and figures["beyond the goal"] == 0
    assert reconcile().ok, reconcile().lines()


def test_a_refund_the_need_still_holds_takes_nothing_from_elsewhere():
    campaign = factories.campaign(needs=(50000,))
    need = Need.objects.get(campaign=campaign)
    donation = _paid(campaign, 50000, need)
    _pay_out(need, 20000)
    receive_event(_event(donation, EventType.REFUNDED, 10000))
    balances = credit_balances([f"need:{need.pk}", "reserve:EUR"])
    assert balances == {f"need:{need.pk}": 20000}  # no reserve account was even opened


def test_a_won_dispute_gives_back_to_the_reserve_what_it_covered():
    campaign = factories.campaign(needs=(50000,))
    need = Need.objects.get(campaign=campaign)
    donation = _paid(campaign, 50000, need)
    _pay_out(need, 45000)
    services.take_back(donation, amount=20000, kind="dispute", key="dispute:dp_1")
    assert credit_balances([f"need:{need.pk}", "reserve:EUR"]) == {f"need:{need.pk}": 0, "reserve:EUR": -15000}
    services.reinstate_dispute(donation, amount=20000, key="reinstated:dp_1")
    assert credit_balances([f"need:{need.pk}", "reserve:EUR"]) == {f"need:{need.pk}": 5000, "reserve:EUR": 0}
    assert reconcile().ok, reconcile().lines()
