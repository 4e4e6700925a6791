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
