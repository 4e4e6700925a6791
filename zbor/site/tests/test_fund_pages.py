"""Programme funds on the public site, in the API and in the back office (issue 18)."""

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories
from zbor.campaigns.models import Campaign, Kind, Status

pytestmark = pytest.mark.django_db


def test_a_fund_page_shows_this_year_against_its_target():
    factories.fund(slug="families", yearly_target=1200000, donations=(2500, 5000))
    page = Client().get("/en/campaigns/families/").content.decode()
    assert "This year: <strong>€75</strong> of €12,000" in page
    assert '<progress max="1200000" value="7500"' in page
    assert "Programme fund" in page and "Collected since it opened: €75" in page
    # No deadline, no goal, no need list, no "goal reached", no beneficiary line.
    for absent in ("Closes in", "Closes today", "Goal:", "reached its goal", "beyond the goal", "How much is needed?"):
        assert absent not in page, absent
    assert 'class="beneficiary"' not in page


def test_a_fund_without_a_target_shows_what_came_in_this_year_without_a_bar():
    factories.fund(slug="relocation", donations=(4000,))
    page = Client().get("/ru/campaigns/relocation/").content.decode()
    from zbor.money import Money, format_money

    assert f"В этом году: <strong>{format_money(Money(4000, 'EUR'), 'ru')}</strong></p>" in page
    assert "<progress" not in page.split('class="summary-box"')[1].split("</aside>")[0]


def test_a_fund_with_needs_lists_them_without_a_goal():
    factories.fund(slug="with-needs", needs=(30000,))
    page = Client().get("/en/campaigns/with-needs/").content.decode()
    assert "How much is needed?" in page and "Need 1" in page and "Goal:" not in page


def test_the_list_labels_funds_and_the_badge_and_share_line_say_this_year():
    factories.fund(slug="families", yearly_target=100000, donations=(1000,))
    factories.campaign(slug="personal")
    listing = Client().get("/en/campaigns/").content.decode()
    cards = listing.split('<article class="card">')[1:]
    fund_card = next(c for c in cards if "/en/campaigns/families/" in c)
    personal_card = next(c for c in cards if "/en/campaigns/personal/" in c)
    assert "Programme fund" in fund_card and "This year:" in fund_card
    assert "Programme fund" not in personal_card and "Collected:" in personal_card
    badge = Client().get("/embed/campaigns/families/badge.svg?lang=en").content.decode()
    assert "This year: €10 of €1,000" in badge


def test_the_api_says_kind_and_yearly_target():
    factories.fund(slug="families", yearly_target=1200000, donations=(2500,))
    factories.fund(slug="relocation")
    factories.campaign(slug="personal")
    api = Client()
    families = api.get("/api/v1/campaigns/families?lang=en").json()
    assert families["kind"] == "fund"
    assert families["yearly_target"] == {"amount": 1200000, "currency": "EUR", "formatted": "€12,000"}
    assert families["collected"]["amount"] == 2500 and families["goal"]["amount"] == 1200000
    assert api.get("/api/v1/campaigns/relocation?lang=en").json()["yearly_target"] is None
    personal = api.get("/api/v1/campaigns/personal?lang=en").json()
    assert personal["kind"] == "personal" and personal["yearly_target"] is None
    listed = {c["slug"]: c["kind"] for c in api.get("/api/v1/campaigns?lang=en").json()["results"]}
    assert listed == {"families": "fund", "relocation": "fund", "personal": "personal"}


def _fund_form(**changes) -> dict:
    data = {
        "title": "Emergency relocation",
        "summary": "Money ready for sudden departures.",
        "slug": "emergency",
        "kind": Kind.FUND,
        "beneficiary": "",
        "category": "relocation",
        "location": "",
        "original_language": "en",
        "story": "A fund's story.",
        "currency": "EUR",
        "suggested_amounts": "",
        "ends_on": "",
        "yearly_target": "12000",
        "monthly_fund": "",
        "cover_alt": "",
        "needs-TOTAL_FORMS": "0",
        "needs-INITIAL_FORMS": "0",
        "needs-MIN_NUM_FORMS": "0",
        "needs-MAX_NUM_FORMS": "1000",
        "updates-TOTAL_FORMS": "0",
        "updates-INITIAL_FORMS": "0",
        "updates-MIN_NUM_FORMS": "0",
        "updates-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("role", "listing", "adds"),
    [(None, 403, False), ("editor", 200, True), ("finance", 200, False), ("admin", 200, False)],
)
def test_each_role_with_funds_in_the_back_office(client, role, listing, adds):
    factories.fund(slug="families")
    user = factories.role_user(role) if role else factories.staff_user(superuser=False)
    client.force_login(user)
    changelist = client.get(reverse("admin:campaigns_campaign_changelist") + "?kind__exact=fund")
    assert changelist.status_code == listing
    if listing == 200:
        assert "families" in changelist.content.decode() and "Programme fund" in changelist.content.decode()
    response = client.post(reverse("admin:campaigns_campaign_add") + "?language=en", _fund_form())
    assert (response.status_code == 302) == adds, response.content.decode()[:2000]
    made = Campaign.objects.filter(slug="emergency").first()
    assert (made is not None) == adds
    if adds:
        assert made.kind == Kind.FUND and made.yearly_target == 1200000 and made.beneficiary is None


def test_the_admin_form_refuses_a_fund_in_another_currency_and_a_personal_campaign_without_a_person(client):
    fund = factories.fund(slug="zloty-fund", currency="PLN")
    client.force_login(factories.role_user("editor"))
    url = reverse("admin:campaigns_campaign_add") + "?language=en"
    response = client.post(url, _fund_form(kind=Kind.PERSONAL, yearly_target="", monthly_fund=str(fund.pk)))
    assert response.status_code == 200
    text = response.content.decode()
    assert "choose a fund in the same currency" in text and "A personal campaign needs a beneficiary." in text
    assert not Campaign.objects.filter(slug="emergency").exists()
    assert Campaign.objects.get(slug="zloty-fund").status == Status.PUBLISHED


def test_a_fund_takes_gifts_has_a_share_card_and_an_embed():
    factories.fund(slug="families", yearly_target=100000, donations=(1000,))
    visitor = Client()
    donate = visitor.get("/en/campaigns/families/donate/")
    assert donate.status_code == 200 and "This year:" in donate.content.decode()
    card = visitor.get("/en/campaigns/families/card.png")
    assert card.status_code == 200 and card["Content-Type"] in ("image/jpeg", "image/png")
    widget = visitor.get("/embed/campaigns/families/?lang=en").content.decode()
    assert "This year: €10 of €1,000" in widget


def test_taking_a_fund_offline_with_the_purge_needs_no_beneficiary():
    from zbor.campaigns import services

    fund = factories.fund(slug="families")
    services.emergency_unpublish(fund, by=factories.role_user("admin"), purge_private=True)
    fund.refresh_from_db()
    assert fund.status == Status.WITHDRAWN
    assert Client().get("/en/campaigns/families/").status_code == 404
