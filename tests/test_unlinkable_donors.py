"""Donors cannot be dated or linked: no public page, feed or API answer shows a gift's amount or
its time, and nothing public links two gifts of one donor."""

import datetime

import pytest
from django.utils import timezone as django_timezone

from tests import factories
from tests.helpers import CAMPAIGN
from tests.test_abuse import DONATE, card
from zbor.donations.models import Donation

pytestmark = pytest.mark.django_db


@pytest.fixture
def new(campaign):
    """The donations made by the test itself."""
    first = (Donation.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    return lambda: Donation.objects.filter(pk__gte=first)


@pytest.fixture
def earlier_gifts(campaign):
    """A campaign as the demo's are: published days ago, with gifts before the test's own (so
    that neither its total nor its feed's times are the test gift's)."""
    from zbor.campaigns.models import Campaign
    from zbor.donations.services import record_demo_donation

    for amount in (50000, 18300):
        record_demo_donation(campaign, amount=amount)
    days_ago = django_timezone.now() - datetime.timedelta(days=12)
    Campaign.objects.filter(pk=campaign.pk).update(published_at=days_ago, updated_at=days_ago)
    factories.update(campaign)  # its feed has an entry


def test_the_public_never_sees_a_donations_amount_or_its_time(client, earlier_gifts, new, settings):
    """After a €37.13 gift, no public page, feed, sitemap or API answer shows that amount, or
    the gift's time to the minute (the day is all any public date says)."""
    from django.utils import timezone

    from zbor.donations.services import moderate_message

    started = client.post(DONATE, card(amount="37.13", public_name="Ola", message="With you."))
    client.post(started["Location"], {"outcome": "complete"})
    donation = new().get()
    moderate_message(donation, approve=True, by=factories.role_user("editor"))
    minute = timezone.localtime(donation.succeeded_at).strftime("%Y-%m-%dT%H:%M")
    http_minute = donation.succeeded_at.astimezone(datetime.UTC).strftime("%a, %d %b %Y %H:%M")
    paths = [
        "/en/",
        "/en/campaigns/",
        "/en/transparency/",
        "/sitemap.xml",
        "/en/campaigns/feed/",
        f"/en/campaigns/{CAMPAIGN}/feed/",
        f"/embed/campaigns/{CAMPAIGN}/",
        f"/embed/campaigns/{CAMPAIGN}/badge.svg",
        "/api/v1/campaigns",
        f"/api/v1/campaigns/{CAMPAIGN}",
        "/api/v1/totals",
    ] + [f"/{lang}/campaigns/{CAMPAIGN}/" for lang in ("en", "ru", "be", "pl")]
    for path in paths:
        response = client.get(path, follow=True)
        assert response.status_code == 200, path
        body = response.content.decode()
        assert "37.13" not in body and "37,13" not in body and "3713" not in body, path
        assert minute not in body, path
        assert http_minute not in response.get("Last-Modified", ""), path
    assert "With you." in client.get(f"/en/campaigns/{CAMPAIGN}/").content.decode()  # words, without an amount


def test_nothing_public_links_two_donations_of_one_donor(client, new):
    """Two gifts with the same email: nothing about the donor (email, a hash of it, a donor id)
    appears anywhere public, and the only thing the two share is what the donor typed."""
    for amount in ("21", "22"):
        started = client.post(DONATE, card(amount=amount, email="same@example.org"))
        client.post(started["Location"], {"outcome": "complete"})
    donations = list(new())
    assert len(donations) == 2
    public = "".join(
        client.get(path).content.decode()
        for path in (
            f"/en/campaigns/{CAMPAIGN}/",
            f"/api/v1/campaigns/{CAMPAIGN}",
            "/api/v1/totals",
            "/en/transparency/",
        )
    )
    import hashlib

    for token in ["same@example.org", "same%40example.org", hashlib.sha256(b"same@example.org").hexdigest()[:12]]:
        assert token not in public
    for donation in donations:
        assert str(donation.public_id) not in public and donation.checkout_reference not in public
