"""Cover pictures: every size made once when the cover is saved, offered as AVIF/WebP/JPEG with
width-described srcsets and a reserved 16:9 box, deleted with the cover, used by the share card."""

import io
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, features

from tests import factories
from tests.helpers import DEMO
from zbor.campaigns import services
from zbor.campaigns.models import Campaign, Status
from zbor.images import COVER_WIDTHS, clean_image, cover_height, variant_name, variant_names

pytestmark = pytest.mark.django_db

FORMATS = {"avif": "AVIF", "webp": "WEBP", "jpg": "JPEG"}


def _stored_url_to_name(url: str) -> str:
    return url.removeprefix("/media/")


def test_the_campaign_page_offers_every_size_in_three_formats_in_a_reserved_box(client, demo):
    html = client.get(f"/en/campaigns/{DEMO}/").content.decode()
    picture = re.search(r"<picture>.*?</picture>", html, re.S).group(0)
    types = re.findall(r'<source type="([^"]+)"', picture)
    assert types == (["image/avif", "image/webp"] if features.check("avif") else ["image/webp"])
    img = re.search(r"<img [^>]*>", picture).group(0)
    assert 'width="1200" height="675"' in img and 'class="cover"' in img
    assert 'loading="lazy"' not in img  # the campaign's own picture is near the top
    assert 'fetchpriority="high"' in img  # the largest thing a phone shows first (make quality)
    assert 'alt="Railway tracks running to the horizon at dawn, beside an empty platform."' in img
    assert 'sizes="(min-width: 44rem) 42rem, calc(100vw - 2rem)"' in img
    for srcset in re.findall(r'srcset="([^"]+)"', picture):
        entries = [entry.split() for entry in srcset.split(", ")]
        assert [descriptor for _url, descriptor in entries] == [f"{w}w" for w in COVER_WIDTHS]
        for url, descriptor in entries:
            name = _stored_url_to_name(url)
            with default_storage.open(name, "rb") as stored, Image.open(stored) as image:
                width = int(descriptor[:-1])
                assert image.size == (width, cover_height(width))
                assert image.format == FORMATS[name.rsplit(".", 1)[1]]
                assert not image.getexif()


def test_the_list_loads_the_first_row_of_covers_at_once_and_the_rest_when_scrolled_to(client, demo):
    html = client.get("/en/campaigns/").content.decode()
    covers = re.findall(r'<img class="card-cover"[^>]*>', html)
    assert len(covers) >= 4
    assert ['loading="lazy"' in img for img in covers] == [False] * 3 + [True] * (len(covers) - 3)
    assert not any("fetchpriority" in img for img in covers)
    assert all('width="1200" height="675"' in img and "srcset=" in img for img in covers)


def _picture(colour) -> ContentFile:
    out = io.BytesIO()
    Image.new("RGB", (1000, 1000), colour).save(out, format="PNG")
    return clean_image(ContentFile(out.getvalue(), name="upload.png"))


def test_saving_a_cover_makes_its_sizes_and_replacing_it_deletes_every_one(django_capture_on_commit_callbacks):
    editor = factories.role_user("editor")
    campaign = factories.campaign(status=Status.DRAFT)
    campaign.cover = _picture("red")
    services.save_campaign(campaign, by=editor, edited=True)
    first = campaign.cover.name
    assert all(default_storage.exists(name) for name in variant_names(first))
    with default_storage.open(variant_name(first, 480, "webp"), "rb") as small, Image.open(small) as image:
        assert image.size == (480, 270)  # a square upload is cropped to 16:9 around its centre
    campaign.cover = _picture("blue")
    with django_capture_on_commit_callbacks(execute=True):
        services.save_campaign(campaign, by=editor, edited=True)
    assert campaign.cover.name != first
    assert not any(default_storage.exists(name) for name in [first, *variant_names(first)])
    assert all(default_storage.exists(name) for name in variant_names(campaign.cover.name))


def test_the_share_card_is_the_cover_with_the_text_on_a_panel(client, demo):
    card = client.get(f"/en/campaigns/{DEMO}/card.png")
    assert card["Content-Type"] == "image/jpeg"
    cover = Campaign.objects.get(slug=DEMO).cover.name
    with default_storage.open(variant_name(cover, 1200, "jpg"), "rb") as stored, Image.open(stored) as original:
        # The card is the cover cropped to 630 rows (22 off the top): above the text panel the
        # pixels are the cover's.
        expected = original.convert("RGB").getpixel((1100, 22 + 200))
    with Image.open(io.BytesIO(card.content)) as image:
        assert image.size == (1200, 630)
        got = image.convert("RGB").getpixel((1100, 200))
    assert all(abs(a - b) <= 12 for a, b in zip(got, expected, strict=True)), (got, expected)


def test_a_campaign_without_a_cover_keeps_the_text_card_and_shows_no_picture(client, campaign):
    plain = campaign
    response = client.get(f"/en/campaigns/{plain.slug}/card.png")
    assert response["Content-Type"] == "image/png"
    page = client.get(f"/en/campaigns/{plain.slug}/").content.decode()
    assert "<picture>" not in page
    assert f'<meta name="twitter:image" content="http://testserver/en/campaigns/{plain.slug}/card.png">' in page


def test_the_migration_makes_the_sizes_of_a_cover_saved_before_them(campaign):
    from importlib import import_module

    from django.apps import apps

    campaign.cover = _picture("green")
    campaign.save()  # directly, as covers were stored before sizes existed
    assert not default_storage.exists(variant_name(campaign.cover.name, 800, "webp"))
    import_module("zbor.campaigns.migrations.0005_cover_sizes").make_sizes(apps, None)
    assert all(default_storage.exists(name) for name in variant_names(campaign.cover.name))
