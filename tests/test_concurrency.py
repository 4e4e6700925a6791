"""50 donors giving to one campaign at the same moment, through the real request path.

Needs real concurrent transactions, so it runs on PostgreSQL: directly when the suite runs
there, or in a child pytest pointed at ZBOR_TEST_DATABASE_URL when the suite runs on SQLite.
"""

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from django.test import Client

from tests import factories
from tests.postgres import run_here_or_on_postgres
from zbor.donations.models import Donation, DonationStatus
from zbor.donations.reconcile import reconcile
from zbor.donations.selectors import campaign_money

DONORS = 50


def _give(slug: str, amount: int) -> int:
    try:
        client = Client()
        response = client.post(
            f"/en/campaigns/{slug}/donate/",
            {
                "amount": str(amount),
                "method": "demo",
                "idempotency_key": uuid.uuid4().hex,
                "challenge": factories.solved_challenge(),
            },
        )
        assert response.status_code == 302, response.status_code
        done = client.post(response["Location"], {"outcome": "complete"})
        return done.status_code
    finally:
        connections.close_all()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_donations_add_up_exactly():
    if not run_here_or_on_postgres(f"{__file__}::test_fifty_concurrent_donations_add_up_exactly"):
        return

    campaign = factories.campaign(slug="busy-day", needs=(100000, 50000))
    amounts = list(range(1, DONORS + 1))
    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda amount: _give("busy-day", amount), amounts))
    assert statuses == [302] * DONORS
    assert Donation.objects.filter(campaign=campaign, status=DonationStatus.SUCCEEDED).count() == DONORS
    expected = sum(amounts) * 100
    money = campaign_money(campaign.pk, list(campaign.needs.values_list("pk", flat=True)))
    assert money.collected == expected
    assert sum(money.raised_by_need.values()) + money.beyond_goal == expected
    # Allocated one after another: no need was filled past its amount, and the needs filled in
    # order — a lost update under concurrency would break either.
    needs = list(campaign.needs.order_by("position"))
    assert [money.raised_by_need[n.pk] for n in needs] == [
        min(expected, 100000),
        max(0, min(expected - 100000, 50000)),
    ]
    report = reconcile()
    assert report.ok, report.lines()
