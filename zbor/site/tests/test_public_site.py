"""The public site as a donor sees it, on the demo data, in every language."""

import re

import pytest
from django.test import Client

from tests import factories
from tests.helpers import DEMO, text_of
from zbor.campaigns.models import Campaign, Status

pytestmark = pytest.mark.django_db

LANGUAGES = ["en", "ru", "be", "pl"]
NBSP = "\u00a0"


EXPECTED = {
    "en": {"goal": "€2,000", "collected": "€683", "need": "€500", "big_need": "€1,000", "note": "SHIZO"},
    "ru": {
        "goal": f"2{NBSP}000{NBSP}€",
        "collected": f"683{NBSP}€",
        "need": f"500{NBSP}€",
        "big_need": f"1{NBSP}000{NBSP}€",
        "note": "ШИЗО",
    },
    "be": {
        "goal": f"2{NBSP}000{NBSP}€",
        "collected": f"683{NBSP}€",
        "need": f"500{NBSP}€",
        "big_need": f"1{NBSP}000{NBSP}€",
        "note": "ШІЗА",
    },
    "pl": {
        "goal": f"2{NBSP}000{NBSP}€",
        "collected": f"683{NBSP}€",
        "need": f"500{NBSP}€",
        "big_need": f"1{NBSP}000{NBSP}€",
        "note": "SZIZO",
    },
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_demo_campaign_page_shows_goal_needs_collected_and_note(client, demo, language):
    response = client.get(f"/{language}/campaigns/{DEMO}/")
    assert response.status_code == 200
    html = response.content.decode()
    text = text_of(html)
    want = EXPECTED[language]
    assert want["goal"] in text and want["collected"] in text and want["big_need"] in text
    assert len(re.findall(r'class="need"', html)) == 3
    assert '<aside class="note"' in html and want["note"] in text
    assert "Zbor Foundation" in text
    assert '<progress max="200000" value="68300"' in html
    assert f'<html lang="{language}">' in html


def test_english_page_reads_like_the_reference(client, demo):
    text = text_of(client.get(f"/en/campaigns/{DEMO}/").content.decode())
    assert "Collected: €683 of €2,000" in text
    assert "How much is needed?" in text
    assert "Goal: €2,000" in text
    assert "Zbor Foundation note · SHIZO" in text
    assert "Name changed for safety; the foundation holds the documents." in text
    assert "How the money was spent" in text and "Nothing has been paid out yet" in text


def test_russian_page_has_the_russian_story_and_says_it_is_a_translation(client, demo):
    html = client.get(f"/ru/campaigns/{DEMO}/").content.decode()
    assert "Меня зовут Павел" in html
    assert 'class="story-text" lang="ru"' in html
    notice = re.search(r'<p class="translation-notice"[^>]*>(.*?)</p>', html, re.S).group(1)
    assert "английский" in notice  # the story was written in English


@pytest.mark.parametrize("language", ["be", "pl"])
def test_missing_translation_falls_back_to_the_original_with_a_notice(client, demo, language):
    # The demo's flagship is written in all four languages; this one only in en and ru.
    html = client.get(f"/{language}/campaigns/winter-for-three-children/").content.decode()
    assert "Alena's husband was arrested" in html or "Alena&#x27;s husband was arrested" in html
    assert 'class="story-text" lang="en"' in html
    notice = re.search(r'<p class="translation-notice"[^>]*>(.*?)</p>', html, re.S).group(1)
    assert {"be": "(англійская)", "pl": "(angielski)"}[language] in notice


def test_story_in_russian_original_says_translated_in_english(client):
    factories.campaign(
        slug="ru-original",
        original_language="ru",
        title="Заголовок",
        story="История.",
        translations={"en": {"title": "Title", "summary": "S", "story": "The story."}},
    )
    text = text_of(client.get("/en/campaigns/ru-original/").content.decode())
    assert "The story." in text
    assert "Original language: Russian" in text


@pytest.mark.parametrize("status", [Status.DRAFT, Status.IN_REVIEW])
def test_unpublished_campaigns_answer_404_everywhere(client, status):
    campaign = factories.campaign(slug="secret-draft", status=status, title="Secret draft title")
    for language in LANGUAGES:
        assert client.get(f"/{language}/campaigns/secret-draft/").status_code == 404
        assert client.get(f"/{language}/campaigns/secret-draft/donate/").status_code == 404
        preview = client.get(f"/{language}/campaigns/preview/{campaign.pk}/")
        assert preview.status_code == 404 and "backoffice" not in preview.content.decode()
        assert "Secret draft title" not in client.get(f"/{language}/campaigns/").content.decode()
        assert "Secret draft title" not in client.get(f"/{language}/").content.decode()


def test_demo_draft_is_not_listed(client, demo):
    draft = Campaign.objects.get(slug="first-months-in-lithuania")
    assert draft.status == Status.DRAFT
    html = client.get("/en/campaigns/").content.decode()
    assert "first-months-in-lithuania" not in html
    assert "7 campaigns" in text_of(html)  # two of them programme funds


def test_staff_preview_shows_a_draft_marked_as_preview(client, demo):
    staff = factories.staff_user()
    client.force_login(staff)
    draft = Campaign.objects.get(slug="first-months-in-lithuania")
    response = client.get(f"/en/campaigns/preview/{draft.pk}/")
    assert response.status_code == 200
    assert "Preview for staff" in response.content.decode()
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Cache-Control"] == "no-store"


def test_private_beneficiary_reference_never_reaches_public_pages(client, demo):
    for language in LANGUAGES:
        for path in ("", "campaigns/", f"campaigns/{DEMO}/", f"campaigns/{DEMO}/donate/"):
            assert "B-0001" not in client.get(f"/{language}/{path}").content.decode()


def test_root_redirects_by_accept_language():
    for header, target in [
        ("ru-RU,ru;q=0.9", "/ru/"),
        ("be", "/be/"),
        ("pl,en;q=0.5", "/pl/"),
        ("de", "/en/"),
        ("", "/en/"),
    ]:
        response = Client(headers={"accept-language": header}).get("/")
        assert response.status_code == 302 and response["Location"] == target, header


def test_every_page_has_title_description_canonical_hreflang_and_open_graph(client, demo):
    for path in ["/en/", "/en/campaigns/", f"/en/campaigns/{DEMO}/", f"/pl/campaigns/{DEMO}/"]:
        html = client.get(path).content.decode()
        assert re.search(r"<title>[^<]+</title>", html), path
        assert re.search(r'<meta name="description" content="[^"]+">', html), path
        assert f'<link rel="canonical" href="http://testserver{path}">' in html
        for language in LANGUAGES:
            assert f'hreflang="{language}" href="http://testserver/{language}/' in html
        assert 'hreflang="x-default"' in html
        for prop in ("og:title", "og:description", "og:url", "og:type", "og:locale", "og:site_name"):
            assert f'property="{prop}"' in html, (path, prop)


def test_language_switcher_links_to_the_same_page(client, demo):
    html = client.get(f"/en/campaigns/{DEMO}/").content.decode()
    for language in ("ru", "be", "pl"):
        assert f'href="/{language}/campaigns/{DEMO}/" hreflang="{language}"' in html


def test_list_filters_by_category_and_status(client, demo):
    text = text_of(client.get("/en/campaigns/?category=legal_aid").content.decode())
    assert "A lawyer for an appeal" in text and "1 campaign" in text and "Pavel" not in text
    text = text_of(client.get("/en/campaigns/?status=closed").content.decode())
    assert "Dental treatment" in text and "1 campaign" in text
    text = text_of(client.get("/en/campaigns/?status=published").content.decode())
    assert "5 campaigns" in text


def test_list_ignores_nonsense_filters_instead_of_failing(client, demo):
    for query in ("category=nope", "status=draft", "sort=drop+table", "page=999", "page=-1", "page=abc"):
        response = client.get(f"/en/campaigns/?{query}")
        assert response.status_code == 200, query
        assert "first-months-in-lithuania" not in response.content.decode()


def _slugs(client, query):
    html = client.get(f"/en/campaigns/?{query}").content.decode()
    return re.findall(r'<h3><a href="/en/campaigns/([^/]+)/">', html)


def test_list_sorts_newest_closest_and_most_needed(client, demo):
    assert _slugs(client, "sort=newest")[:2] == ["parcels-to-a-penal-colony", "from-prison-to-family"]
    closest = _slugs(client, "sort=closest")
    assert set(closest[:2]) == {"lawyer-for-an-appeal", "dental-care-after-release"}  # both 100%
    assert closest[2:5] == ["from-prison-to-family", "winter-for-three-children", "parcels-to-a-penal-colony"]
    # Programme funds have no goal to be close to: last, newest first.
    assert closest[5:] == ["families-of-political-prisoners", "emergency-relocation"]
    most_needed = _slugs(client, "sort=most_needed")
    assert most_needed[0] == "from-prison-to-family"  # €1,317 still missing
    assert most_needed[5:] == ["families-of-political-prisoners", "emergency-relocation"]


def test_list_paginates(client, settings):
    settings.ZBOR_CAMPAIGNS_PER_PAGE = 2
    for n in range(5):
        factories.campaign(slug=f"c{n}")
    first = client.get("/en/campaigns/").content.decode()
    assert "Page 1 of 3" in first and 'rel="next" href="?page=2"' in first
    filtered = client.get("/en/campaigns/?category=relocation&page=2").content.decode()
    assert 'href="?category=relocation&amp;page=3"' in filtered


@pytest.mark.parametrize("language", LANGUAGES)
def test_plural_forms_on_the_list(client, language):
    for n in range(5):
        factories.campaign(slug=f"c{n}")
    text = text_of(client.get(f"/{language}/campaigns/").content.decode())
    expected = {"en": "5 campaigns", "ru": "5 сборов", "be": "5 збораў", "pl": "5 zbiórek"}[language]
    assert expected in text


def test_funded_campaigns_still_take_gifts_and_closed_ones_do_not(client, demo):
    funded = client.get("/en/campaigns/lawyer-for-an-appeal/").content.decode()
    assert "/en/campaigns/lawyer-for-an-appeal/donate/" in funded and "reached its goal" in funded
    closed = client.get("/en/campaigns/dental-care-after-release/").content.decode()
    assert "/donate/" not in closed and "closed" in closed


def test_campaign_page_costs_a_fixed_number_of_queries(client, demo, django_assert_max_num_queries):
    campaign = Campaign.objects.get(slug=DEMO)
    for n in range(5):
        factories.update(campaign, title=f"Update {n}", body="Text\n\n[[note:shizo]]")
    # The campaign, its needs, its money, its and its beneficiary's texts (2), its updates, the
    # notes they place, its payouts, its moves between campaigns and its words of support: the
    # same for 5 updates as for 1.
    with django_assert_max_num_queries(10):
        assert client.get(f"/en/campaigns/{DEMO}/").status_code == 200


def test_list_page_costs_a_fixed_number_of_queries(client, demo, django_assert_max_num_queries):
    for n in range(10):
        factories.campaign(slug=f"extra-{n}")
    with django_assert_max_num_queries(6):
        assert client.get("/en/campaigns/").status_code == 200


def test_campaign_page_html_and_css_together_stay_under_50_kb(client, demo):
    from django.contrib.staticfiles import finders

    html = client.get(f"/en/campaigns/{DEMO}/").content
    with open(finders.find("zbor/site.css"), "rb") as css:
        assert len(html) + len(css.read()) < 50 * 1024


def test_pages_load_nothing_from_other_hosts(client, demo):
    for path in ["/en/", "/en/campaigns/", f"/en/campaigns/{DEMO}/"]:
        html = client.get(path).content.decode()
        for match in re.finditer(r'<(?:link|script|img|iframe)[^>]+(?:src|href)="([^"]+)"', html):
            url = match.group(1)
            assert url.startswith("/") or url.startswith("http://testserver/"), url
        # The one script of a public page is the campaign page's own copy-link and share
        # sheet (progressive enhancement), from this site; no inline script.
        scripts = re.findall(r"<script[^>]*>", html)
        assert all(s == '<script src="/static/zbor/share.js" defer>' for s in scripts), scripts
        assert len(scripts) == (1 if "/campaigns/" + DEMO in path else 0)


def test_robots_txt_does_not_reveal_the_staff_path(client, settings):
    body = client.get("/robots.txt").content.decode()
    assert settings.ZBOR_ADMIN_PATH not in body and "User-agent: *" in body


def test_pages_answer_head_requests_and_refuse_posts(client, demo):
    assert client.head(f"/en/campaigns/{DEMO}/").status_code == 200
    assert client.post(f"/en/campaigns/{DEMO}/").status_code == 405


def test_an_unknown_page_is_a_translated_404_in_the_site_layout(client):
    response = client.get("/pl/campaigns/no-such-campaign/")
    assert response.status_code == 404
    assert '<html lang="pl">' in response.content.decode()


def test_a_half_translated_campaign_shows_each_missing_field_from_the_original(client):
    factories.campaign(
        slug="half",
        story="The English story.",
        translations={"pl": {"title": "Tytuł po polsku", "summary": "Streszczenie", "story": ""}},
    )
    html = client.get("/pl/campaigns/half/").content.decode()
    assert "Tytuł po polsku" in html
    assert "The English story." in html and 'class="story-text" lang="en"' in html
    assert 'class="translation-notice"' in html


def test_dates_follow_the_page_language(client, demo):
    html = client.get(f"/be/campaigns/{DEMO}/").content.decode()
    assert re.search(r"<time datetime=\"\d{4}-\d\d-\d\d\">\d{1,2} [а-яёіў]+ \d{4}", html)


def test_the_list_counts_its_campaigns_once_for_a_few_seconds(client):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(3):
        factories.campaign(slug=f"counted-{n}")
    cache.clear()

    def counts() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/en/campaigns/").status_code == 200
        return sum("COUNT(" in q["sql"] for q in captured.captured_queries)

    assert counts() == 1
    assert counts() == 0  # reused: counting reads every public campaign
    assert client.get("/en/campaigns/?status=funded").status_code == 200  # each filter has its own count
    cache.clear()
    assert counts() == 1


@pytest.mark.parametrize(
    ("asked", "sent_to"),
    [
        (f"/en/campaigns/{DEMO}/?fbclid=IwAR0abc&utm_source=telegram", f"/en/campaigns/{DEMO}/"),
        ("/ru/?x=7f3a9c", "/ru/"),
        ("/en/campaigns/?status=published&utm_medium=social&page=1", "/en/campaigns/?status=published&page=1"),
        ("/sitemap.xml?p=1&nocache=123", "/sitemap.xml?p=1"),
        (f"/embed/campaigns/{DEMO}/?lang=pl&fbclid=1", f"/embed/campaigns/{DEMO}/?lang=pl"),
        (f"/embed/campaigns/{DEMO}/badge.svg?v=2", f"/embed/campaigns/{DEMO}/badge.svg"),
    ],
)
def test_query_parameters_a_page_does_not_read_are_redirected_away(client, demo, asked, sent_to):
    """A share's tracking ids or an attack's random parameters would make every visit a page
    of its own to the caches, rendered anew: they are sent to the page without them."""
    response = client.get(asked)
    assert response.status_code == 301 and response["Location"] == sent_to
    assert client.get(sent_to).status_code == 200


def test_query_parameters_a_page_reads_are_kept(client, demo):
    for path in (
        "/en/campaigns/?category=prisoners&status=published&sort=newest&page=1",
        "/sitemap.xml?p=1",
        f"/embed/campaigns/{DEMO}/?lang=ru",
        "/en/",
    ):
        assert client.get(path).status_code == 200, path
