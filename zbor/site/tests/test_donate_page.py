"""The donate page is rendered for each visit: the CSRF token, the idempotency key and the
challenge are each visitor's own, and what is kept of the page (its frame in the fragment cache,
its heading and fields in the campaign's donate context) holds none of them."""

import re

import pytest
from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.test import Client

from tests import factories
from zbor.payments import registry

pytestmark = pytest.mark.django_db


def _secrets(html: str) -> dict[str, str]:
    found = {
        "csrf": re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html),
        "key": re.search(r'name="idempotency_key" value="([^"]+)"', html),
        "challenge": re.search(r'data-challenge="([^"]+)"', html),
    }
    assert all(found.values()), found
    return {name: match.group(1) for name, match in found.items()}  # type: ignore[union-attr]


@pytest.fixture
def card_payments(settings):
    settings.ZBOR_PAYMENT_PROVIDERS = ["stripe", "bank"]
    settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET = "sk_test_x", "whsec_x"
    registry._providers.cache_clear()
    yield
    registry._providers.cache_clear()


def test_each_visitor_gets_their_own_secrets_and_the_cached_fragments_hold_none(card_payments):
    campaign = factories.campaign(slug="fragments")
    url = f"/en/campaigns/{campaign.slug}/donate/"
    first, second = (Client().get(url) for _ in range(2))
    assert first.status_code == second.status_code == 200
    assert first.context["donate"] is second.context["donate"]  # the same second: one context
    mine, theirs = _secrets(first.content.decode()), _secrets(second.content.decode())
    assert all(mine[name] != theirs[name] for name in mine)
    shared = first.context["donate"]
    fragments = [shared.heading_html, shared.fields_html]
    assert "<h1>" in fragments[0] and 'name="method"' in fragments[1]
    assert all(fragment in page.content.decode() for fragment in fragments for page in (first, second))
    assert not any(secret in fragment for fragment in fragments for page in (mine, theirs) for secret in page.values())


def test_a_refused_form_shows_what_was_sent_not_the_cached_fields():
    campaign = factories.campaign(slug="bound-form")
    url = f"/en/campaigns/{campaign.slug}/donate/"
    Client().get(url)
    client = Client()
    page = client.post(url, {"amount": "abc", "public_name": "Ala", "method": "bank", "idempotency_key": "k" * 20})
    assert page.status_code == 400
    html = page.content.decode()
    assert 'value="Ala"' in html and 'class="error"' in html


def test_the_cached_frame_is_per_campaign_data_address_and_language_and_holds_no_secret(card_payments, settings):
    campaign = factories.campaign(slug="frame")
    url = f"/en/campaigns/{campaign.slug}/donate/"
    first, second = (Client().get(url) for _ in range(2))
    frames = [
        cache.get(make_template_fragment_key("donate-top", [first.context["fragment_key"], "testserver", url])),
        cache.get(make_template_fragment_key("frame-bottom", ["en", settings.ZBOR_FOUNDATION_NAME])),
    ]
    assert 'rel="canonical"' in frames[0] and 'class="site-header"' in frames[0] and "<footer" in frames[1]
    assert all(frame in second.content.decode() for frame in frames)
    secrets = [*_secrets(first.content.decode()).values(), *_secrets(second.content.decode()).values()]
    assert not any(secret in frame for frame in frames for secret in secrets)
    russian = Client().get(f"/ru/campaigns/{campaign.slug}/donate/").content.decode()
    assert '<span aria-current="true" lang="ru">' in russian and '<span aria-current="true" lang="en">' in frames[0]
    assert '<html lang="ru">' in russian
