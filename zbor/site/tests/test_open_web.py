"""Feeds, sitemap, robots.txt and what other sites embed: served for the demo, nothing private."""

import re

import pytest
from defusedxml import ElementTree

from tests.helpers import DEMO
from zbor.campaigns.models import Campaign, Status

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def test_atom_feeds_of_new_campaigns_and_of_updates_in_each_language(client, demo):
    for language in ("en", "ru", "be", "pl"):
        response = client.get(f"/{language}/campaigns/feed/")
        assert response["Content-Type"].startswith("application/atom+xml")
        feed = ElementTree.fromstring(response.content)
        assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == language
        links = [e.find(f"{ATOM}link").get("href") for e in feed.findall(f"{ATOM}entry")]
        assert f"http://testserver/{language}/campaigns/{DEMO}/" in links
        assert not any("first-months-in-lithuania" in link for link in links)
    updates = ElementTree.fromstring(client.get(f"/ru/campaigns/{DEMO}/feed/").content)
    assert [e.find(f"{ATOM}title").text for e in updates.findall(f"{ATOM}entry")] == ["Запись в консульство получена"]
    assert client.get("/en/campaigns/first-months-in-lithuania/feed/").status_code == 404


def test_sitemap_lists_public_pages_with_hreflang_alternates(client, demo):
    body = client.get("/sitemap.xml").content.decode()
    assert f"http://testserver/pl/campaigns/{DEMO}/" in body
    assert 'hreflang="be"' in body and 'hreflang="x-default"' in body
    assert "first-months-in-lithuania" not in body
    Campaign.objects.filter(slug=DEMO).update(status=Status.WITHDRAWN)
    assert DEMO not in client.get("/sitemap.xml").content.decode()


def test_robots_txt_points_at_the_sitemap(client):
    body = client.get("/robots.txt").content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in body


def test_the_widget_may_be_framed_and_says_the_progress_without_javascript(client, demo):
    response = client.get(f"/embed/campaigns/{DEMO}/?lang=ru")
    html = response.content.decode()
    assert response.status_code == 200 and not response.has_header("X-Frame-Options")
    assert "frame-ancestors *" in response["Content-Security-Policy"]
    assert "683\u00a0€" in html and "<script" not in html
    assert len(response.content) < 3000
    assert client.get("/en/").headers["X-Frame-Options"] == "DENY"  # only the embed path can be framed
    assert client.get("/embed/campaigns/first-months-in-lithuania/").status_code == 404


def test_the_badge_is_an_svg_with_the_amounts(client, demo):
    response = client.get(f"/embed/campaigns/{DEMO}/badge.svg?lang=pl")
    assert response["Content-Type"].startswith("image/svg+xml")
    svg = ElementTree.fromstring(response.content)
    assert "683\u00a0€" in svg.find("{http://www.w3.org/2000/svg}title").text
    assert b"<script" not in response.content


def test_the_campaign_page_offers_a_copy_paste_snippet(client, demo):
    html = client.get(f"/en/campaigns/{DEMO}/").content.decode()
    assert (
        re.search(r"&lt;iframe src=&quot;http://testserver/embed/campaigns/from-prison-to-family/\?lang=en", html)
        or '&lt;iframe src="http://testserver/embed/campaigns/from-prison-to-family/?lang=en' in html
    )
    assert f'href="/en/campaigns/{DEMO}/feed/"' in html


def test_the_share_card_is_a_1200_by_630_picture_that_changes_with_the_total(client, demo):
    import io

    from PIL import Image

    from zbor.donations.services import record_demo_donation

    page = client.get(f"/pl/campaigns/{DEMO}/").content.decode()
    assert f'<meta property="og:image" content="http://testserver/pl/campaigns/{DEMO}/card.png">' in page
    first = client.get(f"/pl/campaigns/{DEMO}/card.png")
    assert first["Content-Type"] == "image/jpeg"  # the demo campaign has a cover (test_covers.py)
    with Image.open(io.BytesIO(first.content)) as image:
        assert image.size == (1200, 630)
    assert client.get(f"/pl/campaigns/{DEMO}/card.png").content == first.content  # cached
    record_demo_donation(Campaign.objects.get(slug=DEMO), amount=10000)
    assert client.get(f"/pl/campaigns/{DEMO}/card.png").content != first.content
    assert client.get(f"/en/campaigns/{DEMO}/card.png").content != first.content  # another language


def _update_entries(client, language="en"):
    feed = ElementTree.fromstring(client.get(f"/{language}/campaigns/{DEMO}/feed/").content)
    return [(e.find(f"{ATOM}id").text, e.find(f"{ATOM}link").get("href")) for e in feed.findall(f"{ATOM}entry")]


def test_feed_entries_have_tag_ids_that_survive_a_title_edit_and_link_to_the_update_anchor(client, demo):
    from zbor.campaigns.models import Update

    update = Update.objects.get(campaign__slug=DEMO)
    campaign = update.campaign
    since = campaign.created_at.date().isoformat()
    [(entry_id, link)] = _update_entries(client)
    assert entry_id == f"tag:testserver,{since}:campaign-{campaign.pk}:update-{update.pk}"
    assert " " not in entry_id
    assert link == f"http://testserver/en/campaigns/{DEMO}/#update-{update.pk}"
    translation = update.translations.get(language_code="en")
    translation.title = "A new title for the same update"
    translation.save()
    assert _update_entries(client) == [(entry_id, link)]
    # The anchor the feed links to is on the page, in every language.
    for language in ("en", "ru"):
        page = client.get(f"/{language}/campaigns/{DEMO}/").content.decode()
        assert f'id="update-{update.pk}"' in page
    campaigns = ElementTree.fromstring(client.get("/en/campaigns/feed/").content)
    ids = [e.find(f"{ATOM}id").text for e in campaigns.findall(f"{ATOM}entry")]
    assert ids and all(i.startswith("tag:testserver,") and " " not in i for i in ids)


def test_sitemap_x_default_is_the_address_the_pages_name(client, demo):
    body = client.get("/sitemap.xml").content.decode()
    x_defaults = re.findall(r'hreflang="x-default" href="([^"]+)"', body)
    assert f"http://testserver/en/campaigns/{DEMO}/" in x_defaults
    assert "http://testserver/" not in x_defaults
    page = client.get(f"/pl/campaigns/{DEMO}/").content.decode()
    [page_x_default] = re.findall(r'hreflang="x-default" href="([^"]+)"', page)
    assert page_x_default in x_defaults
    # One x-default in each <url>, and the same for all four languages of a page.
    blocks = re.findall(r"<url>(.*?)</url>", body, re.S)
    assert all(block.count('hreflang="x-default"') == 1 for block in blocks)


def test_api_docs_answer_with_and_without_the_slash(client):
    assert client.get("/api/v1/docs").status_code == 200
    assert client.get("/api/v1/docs/", follow=True).status_code == 200
    assert client.get("/api/v1/docs/")["Location"] == "/api/v1/docs"


def test_an_open_campaigns_donate_page_may_be_indexed_and_a_closed_ones_may_not(client, demo):
    """Lighthouse's SEO audit (make quality) counted the donate page's noindex as a page hidden
    from search; a search for how to give to a campaign may land on its form."""
    html = client.get(f"/en/campaigns/{DEMO}/donate/").content.decode()
    assert 'name="robots"' not in html
    # Its description is the campaign's summary, as on the campaign page, not the site's line.
    description = re.compile(r'<meta name="description" content="([^"]+)">')
    campaign_page = client.get(f"/en/campaigns/{DEMO}/").content.decode()
    assert description.search(html)[1] == description.search(campaign_page)[1]
    assert description.search(html)[1] != description.search(client.get("/en/").content.decode())[1]
    closed = client.get("/en/campaigns/dental-care-after-release/donate/").content.decode()
    assert '<meta name="robots" content="noindex">' in closed
