"""Addresses of the public pages, reversed once per name, arguments and language.

``reverse`` matches the URL patterns again on every call (about a hundred function calls);
a public page names the same few addresses on every render (its navigation, each card's
page). The answer depends only on the URL configuration, the script prefix and the active
language (``i18n_patterns``), so it is kept per those, in a bounded table.
"""

from __future__ import annotations

from functools import lru_cache

from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language


@lru_cache(maxsize=4096)
def _reverse(viewname: str, kwargs: tuple[tuple[str, str], ...], language: str | None, prefix: str, urlconf) -> str:
    # The key's language, prefix and URLconf are the active ones: reverse reads them itself.
    return reverse(viewname, urlconf=urlconf, kwargs=dict(kwargs))


def address(viewname: str, **kwargs: str) -> str:
    """``reverse(viewname, kwargs=kwargs)`` in the active language."""
    return _reverse(viewname, tuple(sorted(kwargs.items())), get_language(), get_script_prefix(), get_urlconf())
