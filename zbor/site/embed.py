"""What other sites embed: a tiny progress widget (iframe-safe, no JavaScript) and an SVG badge.

Only these two paths may be framed by other sites; everything else says X-Frame-Options DENY.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from zbor.public.pages import build_cards
from zbor.public.selectors import campaign_listing

from .fastpath import canonical_redirect, freshness

LANGUAGES = {code for code, _name in settings.LANGUAGES}
#: The only query parameter the widget and the badge read.
PARAMS = frozenset({"lang"})


def _card(slug: str, lang: str | None):
    language = lang if lang in LANGUAGES else settings.LANGUAGE_CODE
    campaign = campaign_listing({}).filter(slug=slug).first()
    if campaign is None:
        raise Http404
    with translation.override(language):
        return build_cards([campaign], language)[0], language


@require_safe
@xframe_options_exempt
def widget(request, slug: str):
    redirect = canonical_redirect(request, PARAMS)
    if redirect is not None:
        return redirect
    card, language = _card(slug, request.GET.get("lang"))
    with translation.override(language):
        response = render(request, "site/embed_widget.html", {"card": card, "LANGUAGE_CODE": language})
    response["Cache-Control"] = freshness()
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'self'; frame-ancestors *; base-uri 'none'"
    return response


@require_safe
def badge(request, slug: str):
    redirect = canonical_redirect(request, PARAMS)
    if redirect is not None:
        return redirect
    card, language = _card(slug, request.GET.get("lang"))
    progress = card.progress
    with translation.override(language):
        if progress.this_year:  # a programme fund's year
            text = progress.line()
        else:
            text = _("%(collected)s of %(goal)s") % {"collected": progress.collected_text, "goal": progress.goal_text}
    width, bar = 320, 300
    filled = bar * min(progress.percent, 100) // 100
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="44" role="img" aria-label="{escape(text)}">'
        f"<title>{escape(text)}</title>"
        f'<rect width="{width}" height="44" rx="6" fill="#f4f5f2"/>'
        f'<text x="10" y="18" font-family="system-ui,sans-serif" font-size="13" fill="#1d2327">{escape(text)}</text>'
        f'<rect x="10" y="26" width="{bar}" height="8" rx="4" fill="#d5d9dd"/>'
        f'<rect x="10" y="26" width="{filled}" height="8" rx="4" fill="#135e4b"/>'
        "</svg>"
    )
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    response["Cache-Control"] = freshness()
    response["Access-Control-Allow-Origin"] = "*"
    return response
