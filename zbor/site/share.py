"""Share links for a campaign page: plain links to each service's own share address.

No third-party script, no button loaded from elsewhere, no tracking parameter: each link names
the page's canonical address and its title, nothing else. A visitor who follows one tells that
service what they share, as they would pasting the address themselves; one who does not follow
any tells nobody. Signal has no share address (only the device's share sheet reaches it), so
the page's script offers the share sheet where the browser has one (zbor/site/static/zbor/share.js).
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple
from urllib.parse import quote, urlencode

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _


class ShareLink(NamedTuple):
    service: str
    href: str


@lru_cache(maxsize=1024)
def share_links(url: str, title: str) -> tuple[ShareLink, ...]:
    """The links for a page at ``url`` (absolute) called ``title``."""
    text = f"{title} {url}"
    return (
        ShareLink("Telegram", "https://t.me/share/url?" + urlencode({"url": url, "text": title}, quote_via=quote)),
        ShareLink("WhatsApp", "https://wa.me/?" + urlencode({"text": text}, quote_via=quote)),
        ShareLink("X", "https://x.com/intent/post?" + urlencode({"url": url, "text": title}, quote_via=quote)),
        ShareLink("Facebook", "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url}, quote_via=quote)),
    )


@lru_cache(maxsize=1024)
def share_html(url: str, title: str, language: str) -> SafeString:
    """The page's share section, written once per address, title and language (``language``
    is the active one: it keys the translations). The buttons that need the script are hidden
    until it shows them; the address and the links work without it."""
    links = format_html_join(
        "",
        '<li><a href="{}" rel="noopener noreferrer">{}</a></li>',
        ((link.href, link.service) for link in share_links(url, title)),
    )
    return format_html(
        '<section aria-labelledby="share-heading" class="share">\n'
        '    <h2 id="share-heading">{}</h2>\n'
        '    <p class="share-actions" hidden data-copied="{}"><button type="button" class="button button-secondary" '
        'data-share-native hidden>{}</button> <button type="button" class="button button-secondary" data-copy-link>{}</button> '
        '<span class="help" role="status"></span></p>\n'
        '    <p class="share-url"><label for="share-url">{}</label> <input id="share-url" type="url" readonly value="{}"></p>\n'
        '    <ul class="share-links">{}</ul>\n'
        "  </section>",
        _("Share"),
        _("Link copied."),
        _("Share…"),
        _("Copy link"),
        _("Link to this page"),
        url,
        links,
    )


@lru_cache(maxsize=1024)
def donate_button(donate_url: str, language: str) -> SafeString:
    """The Donate button the page repeats (after the summary, the story, the needs, in the bar)."""
    return format_html('<a class="button" href="{}">{}</a>', donate_url, _("Donate"))
