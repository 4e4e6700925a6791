"""The pages a person meets when something goes wrong: a bad request (400), a refused page
(403), a refused form (CSRF, 403), a missing page (404) and a server error (500).

Each is in the language of the address's /xx/ prefix (else the language the request was
already in), styled by the site's one stylesheet. A 400, 403, 404 or CSRF page is a normal
site page (header, navigation, footer). If that page cannot be built — the error came from
something the frame needs, such as a request for a host the site does not serve — the plain
page is shown instead, as for a 500: a template rendered without the request, without the
database and without context processors, naming only settings and a static file. If even
that fails, a fixed English page is returned: the last thing that cannot fail.
"""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

log = logging.getLogger(__name__)

_PREFIX = re.compile(r"^/([a-z]{2})(?:/|$)")

#: What each error says: a heading and one or more short paragraphs.
TEXTS = {
    400: (
        _("This request could not be read"),
        (
            _("The address or the form that reached us was incomplete or damaged, so nothing was saved or charged."),
            _("Please go back, reload the page and try again."),
        ),
    ),
    403: (
        _("This page is not open to you"),
        (_("If you followed a link on this site, it may lead to a page for the foundation's staff only."),),
    ),
    404: (
        _("Page not found"),
        (_("There is no page at this address, or it is no longer public."),),
    ),
    500: (
        _("Something went wrong on our side"),
        (_("Nothing you sent was lost or charged. Please try again in a few minutes."),),
    ),
    "csrf": (
        _("This form could not be sent"),
        (
            # What to do first; why after.
            _("Please reload the page and send the form again."),
            _(
                "For your safety a form is accepted only together with the page it was filled in on, "
                "and that page was too old, or your browser did not send its cookie. Nothing was sent or charged."
            ),
            _(
                "If this happens again, allow cookies for this site: the form needs one to know it was "
                "filled in here. It is deleted when you close the browser and is never used to follow you."
            ),
        ),
    ),
}

#: The last page: English, fixed, no template. Shown only when even the plain page failed.
LAST_RESORT = (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Server error</title>'
    '<link rel="stylesheet" href="/static/zbor/site.css"></head><body><main class="wrap">'
    "<h1>Something went wrong on our side</h1>"
    "<p>Nothing you sent was lost or charged. Please try again in a few minutes.</p></main></body></html>\n"
)


def language_of(request) -> str:
    """The language of the address's /xx/ prefix, else the one already active, else the default."""
    codes = {code for code, _name in settings.LANGUAGES}
    match = _PREFIX.match(getattr(request, "path_info", "") or "")
    if match and match.group(1) in codes:
        return match.group(1)
    active = translation.get_language()
    return active if active in codes else settings.LANGUAGE_CODE


def _stylesheet() -> str:
    try:
        from django.templatetags.static import static

        return static("zbor/site.css")
    except Exception:  # a missing manifest entry must not turn an error page into another error
        return f"{settings.STATIC_URL}zbor/site.css"


def plain_page(language: str, status: int, key: int | str | None = None) -> HttpResponse:
    """The self-contained error page: no request, no database, no context processors."""
    title, lines = TEXTS[key or status]
    html: str
    try:
        with translation.override(language):
            html = render_to_string(
                "500.html",
                {
                    "language": language,
                    "title": str(title),
                    "lines": [str(line) for line in lines],
                    "stylesheet": _stylesheet(),
                    "foundation_name": settings.ZBOR_FOUNDATION_NAME,
                    "home": f"/{language}/",
                },
            )
    except Exception:
        log.exception("the plain %s page could not be rendered", status)
        html = LAST_RESORT
    return HttpResponse(html, status=status, content_type="text/html; charset=utf-8")


def _page(request, status: int, key: int | str | None = None, **extra) -> HttpResponse:
    """The error as a site page, or the plain page when the site's frame cannot be built."""
    language = language_of(request)
    title, lines = TEXTS[key or status]
    try:
        with translation.override(language):
            response = render(
                request, "site/error.html", {"title": title, "lines": lines, "status": status, **extra}, status=status
            )
            response["Content-Language"] = language
            return response
    except Exception:
        log.exception("the %s page could not be rendered; the plain one is shown", status)
        return plain_page(language, status, key)


def bad_request(request, exception=None):
    if isinstance(exception, DisallowedHost):
        # The site's frame names this host's addresses: a host the site does not serve gets
        # the plain page, without an error logged for every scanner that tries one.
        return plain_page(language_of(request), 400)
    return _page(request, 400)


def permission_denied(request, exception=None):
    return _page(request, 403)


def page_not_found(request, exception=None):
    return _page(request, 404)


def server_error(request):
    return plain_page(language_of(request), 500)


def _form_address(request) -> str | None:
    """The page the refused form was sent from, when it is on this site (the Referer, which
    the site's referrer policy sends only to itself)."""
    referer = request.META.get("HTTP_REFERER", "")
    try:
        if referer and url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return referer
    except Exception:  # a host the site does not serve: no link back
        return None
    return None


def csrf_failure(request, reason: str = ""):
    """CSRF_FAILURE_VIEW: the form was refused (an old page, or no cookie). Say what to do."""
    return _page(request, 403, "csrf", form_address=_form_address(request))
