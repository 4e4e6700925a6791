"""A random walk through donations, failures, refunds, duplicates and late events keeps every
ledger invariant: groups balance, balances equal their transfers, and what the campaign shows
as collected equals what succeeded minus what was taken back."""

import uuid

import pytest
from django.db import transaction
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from tests import factories
from zbor.donations import services
from zbor.donations.events import receive_event
from zbor.donations.models import Donation, DonationStatus
from zbor.donations.reconcile import reconcile
from zbor.donations.selectors import campaign_money
from zbor.payments.base import EventType, PaymentEvent


def event(donation, kind, *, amount=0, event_id=None):
    return PaymentEvent(
        provider="demo",
        event_id=event_id or f"evt_{uuid.uuid4().hex}",
        type=kind,
        checkout_reference=donation.checkout_reference,
        payment_reference=donation.checkout_reference,
        amount=amount,
        currency=donation.currency,
    )


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.campaign = factories.campaign(needs=(1000, 2500, 500))
        self.needs = list(self.campaign.needs.order_by("position"))
        self.sent: list[PaymentEvent] = []
        #: What the provider says: per donation checkout, the charge's cumulative refunds. The
        #: model the ledger is checked against, kept apart from Zbor's own bookkeeping.
        self.provider_refunds: dict[str, int] = {}
        self.provider_paid: dict[str, int] = {}

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _pending(self):
        return list(Donation.objects.filter(campaign=self.campaign, status=DonationStatus.PENDING).order_by("pk"))

    def _succeeded(self):
        return list(Donation.objects.filter(campaign=self.campaign, status=DonationStatus.SUCCEEDED).order_by("pk"))

    def _send(self, e):
        self.sent.append(e)
        receive_event(e)

    @rule(amount=st.integers(min_value=1, max_value=5000), earmark=st.sampled_from([None, 0, 1, 2]))
    def start(self, amount, earmark):
        services.start_donation(
            self.campaign,
            amount=amount,
            need=None if earmark is None else self.needs[earmark],
            provider="demo",
            idempotency_key=uuid.uuid4().hex,
        )

    @rule(data=st.data())
    def succeed(self, data):
        pending = self._pending()
        if pending:
            d = data.draw(st.sampled_from(pending))
            self.provider_paid[d.checkout_reference] = d.amount
            self._send(event(d, EventType.SUCCEEDED, amount=d.amount))

    @rule(data=st.data())
    def fail(self, data):
        pending = self._pending()
        if pending:
            self._send(event(data.draw(st.sampled_from(pending)), EventType.FAILED))

    @rule(data=st.data(), share=st.integers(min_value=1, max_value=100))
    def refund(self, data, share):
        """The provider reports the charge's cumulative refunds, possibly a partial one."""
        candidates = [d for d in self._succeeded() + self._pending() if d.checkout_reference in self.provider_paid]
        if candidates:
            d = data.draw(st.sampled_from(candidates))
            before = self.provider_refunds.get(d.checkout_reference, 0)
            cumulative = min(d.amount, max(before, d.amount * share // 100, 1))
            self.provider_refunds[d.checkout_reference] = cumulative
            self._send(event(d, EventType.REFUNDED, amount=cumulative))

    @rule(data=st.data(), share=st.integers(min_value=1, max_value=100))
    def refund_arrives_before_the_payment(self, data, share):
        """The provider's refund event overtakes its payment event."""
        pending = self._pending()
        if pending:
            d = data.draw(st.sampled_from(pending))
            cumulative = max(1, d.amount * share // 100)
            self.provider_paid[d.checkout_reference] = d.amount
            self.provider_refunds[d.checkout_reference] = cumulative
            self._send(event(d, EventType.REFUNDED, amount=cumulative))
            self._send(event(d, EventType.SUCCEEDED, amount=d.amount))

    @rule(data=st.data())
    def redeliver(self, data):
        if self.sent:
            receive_event(data.draw(st.sampled_from(self.sent)))

    @invariant()
    def ledger_and_donations_agree(self):
        report = reconcile()
        assert report.ok, report.lines()

    @invariant()
    def collected_is_what_the_provider_paid_minus_what_it_refunded(self):
        # Computed from the provider's side only: a refund Zbor failed to book shows here.
        expected = sum(paid - self.provider_refunds.get(ref, 0) for ref, paid in self.provider_paid.items())
        assert campaign_money(self.campaign.pk, []).collected == expected

    @invariant()
    def no_need_is_filled_past_its_amount_by_unearmarked_money(self):
        money = campaign_money(self.campaign.pk, [n.pk for n in self.needs])
        assert all(v >= 0 for v in money.raised_by_need.values())


@pytest.mark.django_db
def test_ledger_invariants_hold_through_any_sequence():
    run_state_machine_as_test(LedgerMachine, settings=settings(max_examples=30, stateful_step_count=25, deadline=None))
