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

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _pending(self):
        return list(Donation.objects.filter(campaign=self.campaign, status=DonationStatus.PENDING))

    def _succeeded(self):
        return list(Donation.objects.filter(campaign=self.campaign, status=DonationStatus.SUCCEEDED))

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
            self._send(event(d, EventType.SUCCEEDED, amount=d.amount))

    @rule(data=st.data())
    def fail(self, data):
        pending = self._pending()
        if pending:
            self._send(event(data.draw(st.sampled_from(pending)), EventType.FAILED))

    @rule(data=st.data(), share=st.integers(min_value=1, max_value=100))
    def refund(self, data, share):
        """The provider reports the charge's cumulative refunds, possibly a partial one."""
        candidates = self._succeeded() + self._pending()
        if candidates:
            d = data.draw(st.sampled_from(candidates))
            cumulative = min(d.amount, max(d.refunded, d.amount * share // 100) or 1)
            self._send(event(d, EventType.REFUNDED, amount=cumulative))

    @rule(data=st.data())
    def redeliver(self, data):
        if self.sent:
            receive_event(data.draw(st.sampled_from(self.sent)))

    @invariant()
    def ledger_and_donations_agree(self):
        report = reconcile()
        assert report.ok, report.lines()

    @invariant()
    def collected_is_succeeded_minus_taken_back(self):
        succeeded = Donation.objects.filter(campaign=self.campaign, status=DonationStatus.SUCCEEDED)
        expected = sum(d.amount - d.refunded for d in succeeded)
        assert campaign_money(self.campaign.pk, []).collected == expected


@pytest.mark.django_db
def test_ledger_invariants_hold_through_any_sequence():
    run_state_machine_as_test(LedgerMachine, settings=settings(max_examples=30, stateful_step_count=25, deadline=None))
