"""The queries that find donations use the indexes made for them, on SQLite and PostgreSQL.

A donation row is written with every index it is in, so the indexes of what most donations
lack (an earmarked need, a provider's payment or charge reference, a message) keep only the
rows that have one, and a reference's uniqueness holds only where there is one. SQLite uses
such a partial index only when the query names its condition: without it, a webhook or a bank
statement line read all the donations. These tests run the real lookups and ask the database
for its plan of each (PostgreSQL with sequential scans off: it would rather read a table of a
few rows whole)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories
from zbor.donations import bank_import, events, selectors
from zbor.donations.models import Donation
from zbor.payments import bank
from zbor.payments.bank import StatementLine
from zbor.payments.base import EventType, PaymentEvent

pytestmark = pytest.mark.django_db


def plans(lookup) -> list[str]:
    """The database's plan of each query ``lookup()`` runs."""
    with CaptureQueriesContext(connection) as captured:
        lookup()
    assert captured.captured_queries
    explained = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
        for query in captured.captured_queries:
            cursor.execute(("EXPLAIN " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN ") + query["sql"])
            explained.append(" ".join(str(column) for row in cursor.fetchall() for column in row))
    return explained


def test_a_checkout_webhook_finds_its_donation_through_the_index_of_references():
    event = PaymentEvent(provider="stripe", event_id="evt_1", type=EventType.SUCCEEDED, checkout_reference="cs_test_1")
    assert all("donation_checkout_once" in plan for plan in plans(lambda: events._checkout_donation(event)))


def test_a_statement_line_finds_its_pledge_through_the_index_of_references():
    # A reference no pledge has: the exact lookup finds nothing, then the one for typing slips
    # runs when there are references one slip away.
    text = bank.format_reference(bank.new_reference())
    line = StatementLine(
        key="1", booked_on=datetime.date(2026, 11, 29), amount=5000, currency="EUR", is_credit=True, text=text
    )
    found = plans(lambda: bank_import._PendingPledges([line]))
    pledges = [plan for plan in found if "monthlygift" not in plan]
    standing_orders = [plan for plan in found if "monthlygift" in plan]
    assert pledges and all("donation_checkout_once" in plan for plan in pledges)
    # The standing orders (monthly gifts) the line names, through their index of references.
    assert standing_orders and all("monthly_reference_once" in plan for plan in standing_orders)


def test_a_refund_finds_its_donation_through_the_partial_index_of_payments():
    assert all("donation_payment_reference" in plan for plan in plans(lambda: selectors.paid_by("stripe", "pi_1")))


def test_approved_messages_are_read_through_the_partial_index_of_messages():
    campaign = factories.campaign()
    assert all("donation_campaign_message" in plan for plan in plans(lambda: selectors.approved_messages(campaign.pk)))


def test_donations_of_a_need_and_of_a_campaign_are_found_through_their_indexes():
    # A need's donations: what protecting it from deletion asks (on_delete=PROTECT).
    assert all("donation_need" in plan for plan in plans(lambda: Donation.objects.filter(need_id=1).exists()))
    assert all(
        "donation_campaign_status" in plan for plan in plans(lambda: Donation.objects.filter(campaign_id=1).exists())
    )


def test_the_receipt_sweep_reads_only_the_receipts_still_due_through_their_partial_index():
    from django.utils import timezone

    from zbor.donations import receipts

    found = plans(
        lambda: list(receipts._due(timezone.now()).order_by("succeeded_at").values_list("pk", flat=True)[:200])
    )
    assert found and all("donation_receipt_due" in plan for plan in found), found
