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
