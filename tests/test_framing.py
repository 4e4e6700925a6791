"""Every kind of response carries the same framing rules (X-Frame-Options DENY and CSP
frame-ancestors 'none'), not only the pages views render: redirects made by middleware, static
files, refusals (400, 403, 404, 405, 422, 429) and errors (500). Only the embed widget may be
framed. And what other sites embed or show (widget, badge, share card) is kept by outside
caches no longer than a page, so an emergency unpublish reaches them within the same bound."""

import math
import uuid
from unittest import mock

import pytest
from django.test import Client

from tests.helpers import CAMPAIGN

pytestmark = pytest.mark.django_db
DONATE = f"/en/campaigns/{CAMPAIGN}/donate/"


def pledge():
    return {"amount": "25", "method": "bank", "idempotency_key": uuid.uuid4().hex}


def assert_not_framable(response, status: int):
    assert response.status_code == status, response
    assert response["X-Frame-Options"] == "DENY", response
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"], response


@pytest.mark.parametrize(
    ("path", "status", "extra"),
    [
        ("/", 302, {}),  # the language redirect (LocaleMiddleware)
        ("/en/campaigns", 301, {}),  # the trailing slash (CommonMiddleware)
        (f"/en/campaigns/{CAMPAIGN}/?fbclid=1", 301, {}),  # unread query parameters (public_page)
        (DONATE + "?x=1", 301, {}),
        ("/static/zbor/site.css", 200, {}),  # WhiteNoise
        ("/en/", 400, {"HTTP_HOST": "evil.example"}),  # an unknown host (DisallowedHost)
        ("/en/no-such-page/", 404, {}),
        (f"/en/campaigns/{CAMPAIGN}/card.png", 200, {}),
        ("/api/v1/campaigns?bogus=1", 422, {}),  # the API's refusal of unknown parameters
    ],
)
def test_every_kind_of_get_answer_forbids_framing(client, campaign, path, status, extra):
    assert_not_framable(client.get(path, **extra), status)


def test_refusals_and_errors_forbid_framing(client, campaign, settings):
    assert_not_framable(client.post(DONATE, {"amount": "nonsense", "method": "bank"}), 400)
    assert_not_framable(client.put(DONATE), 405)
    assert_not_framable(Client(enforce_csrf_checks=True).post(DONATE, pledge()), 403)
    settings.ZBOR_PLEDGES_PER_CLIENT_HOUR = 1
    client.post(DONATE, pledge())
    assert_not_framable(client.post(DONATE, pledge()), 429)
    crashing = Client(raise_request_exception=False)
    with mock.patch("zbor.site.views.public_campaign", side_effect=RuntimeError("boom")):
        assert_not_framable(crashing.get(f"/en/campaigns/{CAMPAIGN}/"), 500)


def test_only_the_widget_may_be_framed(client, campaign):
    widget = client.get(f"/embed/campaigns/{CAMPAIGN}/")
    assert widget.status_code == 200 and "X-Frame-Options" not in widget
    assert "frame-ancestors *" in widget["Content-Security-Policy"]


def test_embedded_and_shared_answers_are_kept_no_longer_than_a_page(client, campaign, settings):
    settings.ZBOR_PAGE_CACHE_SECONDS = 1
    for path in (
        f"/embed/campaigns/{CAMPAIGN}/",
        f"/embed/campaigns/{CAMPAIGN}/badge.svg",
        f"/en/campaigns/{CAMPAIGN}/card.png",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        max_age = int(response["Cache-Control"].split("max-age=")[1].split(",")[0])
        assert response["Cache-Control"].startswith("public") and max_age <= math.ceil(
            settings.ZBOR_PAGE_CACHE_SECONDS
        ), path
