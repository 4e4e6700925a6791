"""What shows that others give, without exposing anyone, and what a phone needs to give
(issue 17): the donor count, words of support with a coarse time, the end date, suggested
amounts, "Give to this need", the Donate buttons and sticky bar, share links, the error summary."""

import datetime
import re
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core.exceptions import ValidationError

from tests import factories
from tests.helpers import CAMPAIGN, text_of
from zbor.campaigns.forms import CampaignAdminForm, parse_suggested_amounts
from zbor.campaigns.models import Campaign, Need
from zbor.donations.models import Donation, DonationStatus, MessageStatus
from zbor.donations.selectors import DONOR_COUNTS

pytestmark = pytest.mark.django_db
PAGE, DONATE = f"/en/campaigns/{CAMPAIGN}/", f"/en/campaigns/{CAMPAIGN}/donate/"


@pytest.fixture
def giving(campaign):
    """The `campaign` (needs of €500, €500, €1,000) with the first need full and €183 given to
    the second."""
    from zbor.donations.services import record_demo_donation

    first, second, _third = Need.objects.filter(campaign=campaign).order_by("position")
    record_demo_donation(campaign, amount=50000, need=first)
    record_demo_donation(campaign, amount=18300, need=second)
    DONOR_COUNTS.clear()
    return campaign


def _at(day: datetime.date):
    """Time stands at noon (UTC) on ``day``."""
    moment = datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.UTC)
    return mock.patch("django.utils.timezone.now", return_value=moment)


# "Give to this need": ?need= preselects the need


def test_give_to_this_need_links_preselect_their_need(client, giving):
    full, second, third = Need.objects.filter(campaign=giving).order_by("position")
    html = client.get(PAGE).content.decode()
    links = re.findall(r'href="([^"]*\?need=\d+)"', html)
    # The first need is full: only the open ones offer it.
    assert links == [f"{DONATE}?need={second.pk}", f"{DONATE}?need={third.pk}"]
    form = client.get(links[0]).content.decode()
    assert re.findall(r'<option value="(\d+)" selected>', form) == [str(second.pk)]
    assert 'name="idempotency_key" value="' in form


@pytest.mark.parametrize("value", ["abc", "0", "-1", "99999999", "1e3", "٣", "9" * 40, "", "%00"])
def test_a_need_that_is_not_this_campaigns_is_ignored_without_an_error(client, campaign, value):
    response = client.get(f"{DONATE}?need={value}")
    assert response.status_code == 200
    assert not re.search(r'<option value="\d+" selected>', response.content.decode())


def test_another_campaigns_need_is_not_preselected(client, campaign):
    other = factories.campaign(slug="other")
    foreign = Need.objects.filter(campaign=other).first()
    html = client.get(f"{DONATE}?need={foreign.pk}").content.decode()
    assert f'value="{foreign.pk}"' not in html


def test_other_query_parameters_are_still_redirected_away(client, campaign):
    need = Need.objects.filter(campaign=campaign).first()
    response = client.get(f"{DONATE}?need={need.pk}&utm_source=x&fbclid=y")
    assert response.status_code == 301 and response["Location"] == f"{DONATE}?need={need.pk}"


# Suggested amounts


def test_editors_suggested_amounts_are_parsed_in_major_units_and_checked():
    assert parse_suggested_amounts("20, 50 100;250", "EUR") == [2000, 5000, 10000, 25000]
    assert parse_suggested_amounts("12,50 5", "EUR") == [500, 1250]
    assert parse_suggested_amounts("", "EUR") == []
    assert parse_suggested_amounts("500 1000", "JPY") == [500, 1000]
    for typed in ("ten", "0", "-5", "1 2 3 4 5 6 7", "10000000", "5 10001"):
        with pytest.raises(ValidationError):
            parse_suggested_amounts(typed, "EUR")


def test_the_campaign_form_stores_minor_units_and_shows_major_ones(campaign):
    Campaign.objects.filter(pk=campaign.pk).update(status="draft")
    campaign.refresh_from_db()
    data = {
        "slug": campaign.slug,
        "beneficiary": campaign.beneficiary_id,
        "category": campaign.category,
        "currency": "EUR",
        "original_language": "en",
        "title": "T",
        "summary": "S",
        "story": "",
        "suggested_amounts": "15, 40",
        "ends_on": "",
    }
    form = CampaignAdminForm(data, instance=campaign)
    assert form.is_valid(), form.errors
    assert form.save().suggested_amounts == [1500, 4000]
    assert (
        CampaignAdminForm(instance=Campaign.objects.get(pk=campaign.pk)).initial["suggested_amounts"] == "15.00, 40.00"
    )
    bad = CampaignAdminForm({**data, "suggested_amounts": "15, lots"}, instance=campaign)
    assert not bad.is_valid() and "suggested_amounts" in bad.errors


def _presets(html: str) -> list[str]:
    return [
        text_of(label).strip()
        for label in re.findall(r'<label class="choice"><input type="radio" name="preset"[^>]*>(.*?)</label>', html)
    ]


def test_the_form_offers_the_editors_amounts_then_what_needs_still_lack_labelled(client, giving):
    Campaign.objects.filter(pk=giving.pk).update(suggested_amounts=[1500, 4000])
    presets = _presets(client.get(DONATE).content.decode())
    # €683 collected: the first need (€500) is full, the second has €183 of €500.
    assert presets == ["€15", "€40", "€317 — what “Need 2” still lacks", "€1,000 — what “Need 3” still lacks"]


def test_without_editors_amounts_the_ladder_stays_the_same_after_a_gift(client, giving):
    from zbor.donations.services import record_demo_donation
    from zbor.site.donate_views import CONTEXTS

    before = _presets(client.get(DONATE).content.decode())
    assert before[:5] == ["€10", "€25", "€50", "€100", "€250"]
    record_demo_donation(giving, amount=1700)
    CONTEXTS.clear()
    after = _presets(client.get(DONATE).content.decode())
    assert after[:5] == before[:5] and after[5] == "€300 — what “Need 2” still lacks"


def test_choosing_what_a_need_lacks_gives_to_that_need(client, giving):
    second = Need.objects.get(campaign=giving, position=1)
    data = {
        "preset": "31700",
        "amount": "",
        "need": "",
        "method": "bank",
        "idempotency_key": "k" * 32,
    }
    response = client.post(DONATE, data)
    assert response.status_code == 302, text_of(response.content.decode())[:1500]
    donation = Donation.objects.get(idempotency_key="k" * 32)
    assert donation.amount == 31700 and donation.need_id == second.pk


# Words of support, the donor count


def _approve(campaign, rows):
    donations = list(Donation.objects.filter(campaign=campaign).order_by("pk"))
    for donation, (name, message, at) in zip(donations, rows, strict=False):
        Donation.objects.filter(pk=donation.pk).update(
            public_name=name, message=message, message_status=MessageStatus.APPROVED, succeeded_at=at
        )


def test_words_of_support_show_a_first_name_and_a_coarse_time_never_an_amount_or_date(client):
    campaign = factories.campaign(slug=CAMPAIGN, donations=(1234, 5678, 9100))
    today = datetime.date(2026, 12, 4)
    noon = datetime.datetime(2026, 12, 4, 12, tzinfo=datetime.UTC)
    _approve(
        campaign,
        [
            ("Ales Bialiacki", "Hold on", noon - datetime.timedelta(days=2, hours=3)),
            ("", "We remember", noon - datetime.timedelta(days=12)),
            ("Ola", "Strength", noon - datetime.timedelta(days=60)),
        ],
    )
    with _at(today):
        html = client.get(PAGE).content.decode()
    section = html.split('class="support-messages"', 1)[1].split("</section>", 1)[0]
    words = text_of(section)
    assert "— Ales, this week" in words and "Bialiacki" not in html
    assert "— Anonymous, this month" in words
    assert "— Ola, earlier" in words
    for amount in ("12.34", "56.78", "91", "€12", "€56"):
        assert amount not in words
    assert "<time" not in section and "2026" not in section and ":" not in words


def test_the_donor_count_counts_succeeded_gifts_and_moves_in_steps(client):
    from zbor.donations.services import record_demo_donation

    campaign = factories.campaign(slug=CAMPAIGN, donations=(1000, 2000, 3000))
    Donation.objects.create(
        campaign=campaign,
        amount=500,
        currency="EUR",
        provider="demo",
        status=DonationStatus.FAILED,
        idempotency_key="f" * 32,
    )
    assert "3 donations so far" in text_of(client.get(PAGE).content.decode())
    record_demo_donation(campaign, amount=700)
    # Kept for a quarter of an hour: one more gift does not show at once.
    assert "3 donations so far" in text_of(client.get(PAGE).content.decode())
    DONOR_COUNTS.clear()
    assert "4 donations so far" in text_of(client.get(PAGE).content.decode())


def test_a_campaign_without_gifts_shows_no_count(client, campaign):
    assert "donations so far" not in client.get(PAGE).content.decode()


# The end date


def test_the_end_date_says_how_many_days_are_left(client, campaign):
    Campaign.objects.filter(pk=campaign.pk).update(ends_on=datetime.date(2026, 12, 20))
    for day, said in [
        (datetime.date(2026, 12, 4), "Closes in 16 days · last day December 20, 2026"),
        (datetime.date(2026, 12, 19), "Closes in 1 day"),
        (datetime.date(2026, 12, 20), "Closes today"),
    ]:
        with _at(day):
            text = text_of(client.get(PAGE).content.decode())
        assert said in text, day
        assert "Give to this need" in text
    with _at(datetime.date(2026, 12, 21)):
        text = text_of(client.get(PAGE).content.decode())
        form = client.get(DONATE).content.decode()
    assert "Donations closed on December 20, 2026." in text
    assert "Give to this need" not in text and DONATE not in text
    assert "This campaign is not taking donations." in form and "<form" not in form.split("<main", 1)[1]


def test_a_campaign_without_an_end_date_says_nothing_about_one(client, campaign):
    text = text_of(client.get(PAGE).content.decode())
    assert "Closes" not in text and "last day" not in text


# Phones: Donate after the story and the needs, the sticky bar; share links


def test_donate_buttons_follow_the_story_and_the_needs_and_a_sticky_bar_works_without_js(client, campaign):
    html = client.get(PAGE).content.decode()
    story = html.split('class="story"', 1)[1].split("</section>", 1)[0]
    needs = html.split('class="needs"', 1)[1].split("</section>", 1)[0]
    assert f'<a class="button" href="{DONATE}">Donate</a>' in story
    assert f'<a class="button" href="{DONATE}">Donate</a>' in needs
    sticky = re.search(r'<div class="sticky-donate">(.*?)</div>', html, re.S)
    assert sticky and f'href="{DONATE}"' in sticky.group(1)  # a plain link: no script needed
    assert html.count(f'href="{DONATE}"') == 4  # the summary, after the story, after the needs, the bar


def test_a_closed_campaign_offers_no_donate_button(client):
    factories.campaign(slug=CAMPAIGN, status="closed")
    html = client.get(PAGE).content.decode()
    assert DONATE not in html and "sticky-donate" not in html


def test_share_links_name_the_page_and_nothing_else(client, campaign):
    html = client.get(PAGE).content.decode()
    section = html.split('class="share"', 1)[1].split("</section>", 1)[0]
    links = re.findall(r'<a href="([^"]+)" rel="noopener noreferrer">([^<]+)</a>', section)
    assert [name for _href, name in links] == ["Telegram", "WhatsApp", "X", "Facebook"]
    page_url = f"http://testserver{PAGE}"
    for href, _name in links:
        parts = urlsplit(href.replace("&amp;", "&"))
        assert parts.scheme == "https"
        query = dict(parse_qsl(parts.query))
        assert set(query) <= {"url", "text", "u"}
        assert any(value == page_url or value.endswith(" " + page_url) for value in query.values())
        assert not any(k.startswith("utm") or k in ("fbclid", "ref", "via") for k in query)
    assert f'id="share-url" type="url" readonly value="{page_url}"' in section
    # The buttons that need a script are hidden until it runs; the page loads no script from elsewhere.
    assert '<p class="share-actions" hidden' in section
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/zbor/share.js" defer>']


def test_the_share_script_is_served_and_allowed_by_the_policy(client, campaign):
    from django.contrib.staticfiles import finders

    with open(finders.find("zbor/share.js")) as script:
        body = script.read()
    assert "navigator.share" in body and "clipboard" in body and "http" not in body
    policy = client.get(PAGE)["Content-Security-Policy"]
    assert "script-src 'self'" in policy


# The error summary


def test_errors_are_summed_up_at_the_top_of_the_form_with_links_to_fields(client, campaign):
    response = client.post(DONATE, {"amount": "ten", "method": "demo", "email": "nope", "idempotency_key": "k" * 32})
    html = response.content.decode()
    assert response.status_code == 400
    form = html.split('<form method="post"', 1)[1]
    summary = form.split('<div class="error-summary"', 1)[1].split("</div>", 1)[0]
    # It comes before the first field, so that without JavaScript the errors are seen at once.
    assert form.index('class="error-summary"') < form.index('name="preset"')
    assert '<a href="#id_amount">Enter a number, like 25 or 25.50.</a>' in summary
    assert 'href="#id_email"' in summary
    assert 'id="id_amount"' in form and 'id="id_email"' in form


def test_the_card_check_that_needs_javascript_is_summed_up_at_the_top(client, campaign):
    """Without JavaScript a card payment's check has no answer: the error used to show only next
    to the ways to pay, at the bottom of the form."""
    response = client.post(DONATE, {"amount": "25", "method": "demo", "idempotency_key": "k" * 32})
    form = response.content.decode().split('<form method="post"', 1)[1]
    summary = form.split('<div class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert response.status_code == 400
    assert re.search(r'<li><a href="#id_method_0">[^<]*JavaScript[^<]*</a></li>', summary), summary
    assert 'id="id_method_0"' in form and form.index("error-summary") < form.index('name="amount"')
