"""Monthly giving on the transparency page (issue 18): per campaign with active monthly gifts
and in total, per currency, how many people give monthly and what they give each month —
counts and sums only, nobody named; figures that move in steps, like the campaign pages'."""

from __future__ import annotations

import re
import uuid

import pytest

from tests import factories
from tests.helpers import text_of
from zbor.campaigns.models import Campaign, Status
from zbor.donations import services
from zbor.donations.events import receive_event
from zbor.donations.models import MonthlyGift, StopReason
from zbor.donations.selectors import DONOR_COUNTS
from zbor.payments.demo import DemoProvider

pytestmark = pytest.mark.django_db

PAGE = "/en/transparency/"


def give(campaign, amount, *, email="hidden.supporter@example.org", start=True) -> MonthlyGift:
    gift = services.start_monthly(
        campaign, amount=amount, provider="demo", email=email, language="en", idempotency_key=uuid.uuid4().hex
    )
    if start:
        receive_event(DemoProvider.subscription_started(gift.checkout_reference))
        receive_event(
            DemoProvider.monthly_paid(
                gift.reference, f"demo_inv_{gift.public_id.hex}_1", amount=amount, currency=gift.currency
            )
        )
        gift.refresh_from_db()
    return gift


@pytest.fixture
def supporters():
    """Gifts to four campaigns. "Help to start again" (EUR): €10, €10 and €25 running, a €50 one stopped, one pending;
    "Lawyers for Ales" (EUR): €5 running; "Pomoc prawna" (PLN): 40 zł running, 15 zł paused; and
    a campaign taken offline (EUR) with €7 running."""
    start_again = factories.campaign(title="Help to start again")
    lawyers = factories.campaign(title="Lawyers for Ales")
    polish = factories.campaign(title="Pomoc prawna", currency="PLN", original_language="pl")
    offline = factories.campaign(title="Somebody at risk")
    for amount in (1000, 1000, 2500):
        give(start_again, amount)
    services.stop_monthly(give(start_again, 5000), reason=StopReason.DONOR)
    give(start_again, 9900, start=False)
    give(lawyers, 500)
    give(polish, 4000)
    services.pause_monthly(give(polish, 1500))
    give(offline, 700)
    Campaign.objects.filter(pk=offline.pk).update(status=Status.WITHDRAWN)
    return start_again


def monthly_part(html: str) -> str:
    return text_of(html[html.index('id="monthly"') :])


def test_the_page_shows_each_campaigns_supporters_and_monthly_sum_and_the_totals(client, supporters):
    html = client.get(PAGE).content.decode()
    part = monthly_part(html)
    assert "Monthly giving" in part
    assert "EUR People giving monthly 5 Every month €57" in part  # 10 + 10 + 25 + 5 + 7
    assert "Help to start again 3 €45" in part and "Lawyers for Ales 1 €5" in part
    assert "Campaigns no longer shown 1 €7" in part and "Somebody at risk" not in html
    assert "PLN People giving monthly 1 Every month PLN\u00a040" in part
    assert "Pomoc prawna 1 PLN\u00a040" in part
    assert f'href="/en/campaigns/{supporters.slug}/"' in html
    # The Polish campaign's title is in Polish on the English page, and says so.
    assert 'lang="pl">Pomoc prawna' in html


def test_nobody_is_named_and_no_email_or_reference_is_shown(client, supporters):
    html = client.get(PAGE).content.decode()
    assert "hidden.supporter" not in html and "@example.org" not in html
    for reference in MonthlyGift.objects.values_list("reference", flat=True):
        assert reference not in html


def test_the_figures_move_in_steps_not_at_each_gift(client, supporters):
    before = monthly_part(client.get(PAGE).content.decode())
    give(supporters, 2000)
    assert monthly_part(client.get(PAGE).content.decode()) == before
    DONOR_COUNTS.clear()  # a quarter of an hour later
    assert "Help to start again 4 €65" in monthly_part(client.get(PAGE).content.decode())


def test_without_monthly_gifts_the_page_has_no_monthly_part(client):
    factories.campaign(donations=(1000,))
    assert 'id="monthly"' not in client.get(PAGE).content.decode()


@pytest.mark.parametrize("language", ["ru", "be", "pl"])
def test_the_monthly_part_is_translated(client, supporters, language):
    html = client.get(f"/{language}/transparency/").content.decode()
    part = monthly_part(html)
    assert "People giving monthly" not in part and "Every month" not in part and "Monthly giving" not in part


def test_the_page_stays_light_public_and_without_scripts(client, supporters, django_assert_max_num_queries):
    from django.contrib.staticfiles import finders

    # The ledger's three (categories, credits, debits); the gifts, their campaigns and texts (2):
    # as many for three campaigns as for three hundred.
    with django_assert_max_num_queries(7):
        response = client.get(PAGE)
    html = response.content
    with open(finders.find("zbor/site.css"), "rb") as css:
        assert len(html) + len(css.read()) < 50 * 1024
    assert re.findall(rb"<script", html) == []
    assert "public" in response["Cache-Control"]
