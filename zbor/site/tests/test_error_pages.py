"""Every error a person can meet (400, 403, CSRF, 404, 429, 500) is a calm page in the
address's language, with the site's stylesheet, and rendering it never fails in turn."""

import logging
import re
import uuid

import pytest
from django.conf.urls.i18n import i18n_patterns
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.test import Client
from django.urls import path

from config import urls as site_urls
from tests.helpers import CAMPAIGN
from zbor.site import errors

pytestmark = pytest.mark.django_db


def _forbidden(request):
    raise PermissionDenied


def _suspicious(request):
    raise SuspiciousOperation("a malformed request")


def _boom(request):
    raise RuntimeError("a bug")


# This module is also the URL configuration of the tests below that need a view raising an
# error (pytest.mark.urls): the real site plus three such views, with the real handlers.
urlpatterns = site_urls.urlpatterns + i18n_patterns(
    path("forbidden/", _forbidden), path("suspicious/", _suspicious), path("boom/", _boom)
)
handler400 = site_urls.handler400
handler403 = site_urls.handler403
handler404 = site_urls.handler404
handler500 = site_urls.handler500

STYLESHEET = '<link rel="stylesheet" href="/static/zbor/site.css">'

#: The heading each error shows, per language.
HEADINGS = {
    400: {
        "en": "This request could not be read",
        "ru": "Не удалось прочитать запрос",
        "be": "Не ўдалося прачытаць запыт",
        "pl": "Nie udało się odczytać żądania",
    },
    403: {
        "en": "This page is not open to you",
        "ru": "Эта страница вам недоступна",
        "be": "Гэтая старонка вам недаступная",
        "pl": "Ta strona nie jest dla Ciebie dostępna",
    },
    404: {
        "en": "Page not found",
        "ru": "Страница не найдена",
        "be": "Старонка не знойдзена",
        "pl": "Nie znaleziono strony",
    },
    500: {
        "en": "Something went wrong on our side",
        "ru": "Что-то пошло не так на нашей стороне",
        "be": "Нешта пайшло не так на нашым баку",
        "pl": "Coś poszło nie tak po naszej stronie",
    },
    "csrf": {
        "en": "This form could not be sent",
        "ru": "Не удалось отправить форму",
        "be": "Не ўдалося адправіць форму",
        "pl": "Nie udało się wysłać formularza",
    },
}
LANGUAGES = ["en", "ru", "be", "pl"]


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def assert_error_page(response, status, key, language):
    html = response.content.decode()
    assert response.status_code == status
    assert f'<html lang="{language}">' in html
    assert HEADINGS[key][language] in text_of(response)
    assert STYLESHEET in html
    # The other languages' headings are not there: the page is in one language.
    assert not [other for code, other in HEADINGS[key].items() if code != language and other in text_of(response)]


@pytest.fixture
def no_fallback(caplog):
    """The error page itself rendered: nothing fell back to the plain page."""
    caplog.set_level(logging.ERROR, logger="zbor.site.errors")
    yield
    assert [r.getMessage() for r in caplog.records if r.name == "zbor.site.errors"] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_missing_page_is_translated_and_styled(client, settings, language, no_fallback):
    settings.DEBUG = False
    for address in (f"/{language}/campaigns/no-such-campaign/", f"/{language}/no/such/page/"):
        response = client.get(address)
        assert_error_page(response, 404, 404, language)
        assert 'class="site-header"' in response.content.decode()  # the site's own frame
        assert '<meta name="robots" content="noindex">' in response.content.decode()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_refused_form_says_to_reload_and_allow_cookies(campaign, settings, language, no_fallback):
    """What was seen: a CSRF failure showed Django's bare English 403 page."""
    settings.DEBUG = False
    browser = Client(enforce_csrf_checks=True)
    donate = f"/{language}/campaigns/{CAMPAIGN}/donate/"
    response = browser.post(donate, {"amount": "25", "method": "bank"}, HTTP_REFERER=f"http://testserver{donate}")
    assert_error_page(response, 403, "csrf", language)
    text = text_of(response)
    assert "CSRF" not in text and "Forbidden" not in text
    reload = {"en": "reload the page", "ru": "обновите страницу", "be": "абнавіце старонку", "pl": "Odśwież stronę"}
    cookies = {"en": "allow cookies", "ru": "разрешите cookie", "be": "дазвольце cookie", "pl": "pliki cookie"}
    assert reload[language] in text and cookies[language] in text
    # A way straight back to the form it came from (this site's own address only).
    assert f'href="http://testserver{donate}"' in response.content.decode()
    elsewhere = browser.post(donate, {"amount": "25"}, HTTP_REFERER="https://evil.example/phish")
    assert elsewhere.status_code == 403 and "evil.example" not in elsewhere.content.decode()


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_refused_page_and_a_bad_request_are_translated_and_styled(client, settings, language, no_fallback):
    settings.DEBUG = False
    assert_error_page(client.get(f"/{language}/forbidden/"), 403, 403, language)
    assert_error_page(client.get(f"/{language}/suspicious/"), 400, 400, language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_host_the_site_does_not_serve_gets_the_plain_400(client, settings, language, no_fallback):
    settings.DEBUG = False
    response = client.get(f"/{language}/", HTTP_HOST="not-ours.example")
    assert_error_page(response, 400, 400, language)


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_server_error_is_translated_and_styled(settings, language, no_fallback):
    settings.DEBUG = False
    response = Client(raise_request_exception=False).get(f"/{language}/boom/")
    assert_error_page(response, 500, 500, language)


def test_the_500_page_needs_no_database_and_no_request_context(rf, settings, django_assert_num_queries):
    settings.DEBUG = False
    request = rf.get("/be/campaigns/")
    with django_assert_num_queries(0):
        response = errors.server_error(request)
    assert_error_page(response, 500, 500, "be")
    # Outside the language prefixes (the API, webhooks) the default language's page.
    assert_error_page(errors.server_error(rf.get("/webhooks/stripe/")), 500, 500, "en")


def test_when_even_the_plain_page_fails_a_fixed_page_is_returned(rf, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("templates are gone")

    monkeypatch.setattr(errors, "render_to_string", broken)
    response = errors.server_error(rf.get("/ru/"))
    assert response.status_code == 500 and "Something went wrong on our side" in response.content.decode()
    assert STYLESHEET in response.content.decode()


@pytest.mark.parametrize("language", LANGUAGES)
def test_too_many_payments_get_a_translated_styled_429(client, campaign, settings, language):
    settings.DEBUG = False
    settings.ZBOR_PLEDGES_PER_CLIENT_HOUR = 1

    def pledge():
        return client.post(
            f"/{language}/campaigns/{CAMPAIGN}/donate/",
            {"amount": "25", "method": "bank", "idempotency_key": uuid.uuid4().hex},
            REMOTE_ADDR="203.0.113.5",
        )

    assert pledge().status_code == 302
    response = pledge()
    heading = {
        "en": "Please wait a little",
        "ru": "Пожалуйста, подождите немного",
        "be": "Калі ласка, пачакайце крыху",
        "pl": "Prosimy chwilę poczekać",
    }
    html = response.content.decode()
    assert response.status_code == 429 and heading[language] in html and STYLESHEET in html
    assert f'<html lang="{language}">' in html


def test_every_error_text_is_in_every_catalogue():
    """The error pages' words are real translations, not English left in place."""
    from django.utils import translation

    for key, (title, lines) in errors.TEXTS.items():
        with translation.override("en"):
            english = [str(line) for line in lines]
        for language in ("ru", "be", "pl"):
            with translation.override(language):
                assert str(title) == HEADINGS[key][language]
                assert not set(english) & {str(line) for line in lines}
