"""Addresses of the public pages, reversed once per name, arguments and language.

``reverse`` matches the URL patterns again on every call (about a hundred function calls);
a public page names the same few addresses on every render (its navigation, each card's
page). The answer depends only on the URL configuration, the script prefix and the active
language (``i18n_patterns``), so it is kept per those, in a bounded table.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType

from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language


@lru_cache(maxsize=4096)
def _reverse(viewname: str, kwargs: tuple[tuple[str, str], ...], language: str | None, prefix: str, urlconf) -> str:
    # The key's language, prefix and URLconf are the active ones: reverse reads them itself.
    return reverse(viewname, urlconf=urlconf, kwargs=dict(kwargs))


def address(viewname: str, **kwargs: str) -> str:
    """``reverse(viewname, kwargs=kwargs)`` in the active language."""
    return _reverse(viewname, tuple(sorted(kwargs.items())), get_language(), get_script_prefix(), get_urlconf())


def addresses(namespace: str, names: tuple[str, ...]) -> Mapping[str, str]:
    """``address`` of each ``namespace:name`` (no arguments), by name: one read-only table per
    language, for what every page links to (its navigation)."""
    return _table(namespace, names, get_language(), get_script_prefix(), get_urlconf())


@lru_cache(maxsize=256)
def _table(namespace: str, names: tuple[str, ...], language: str | None, prefix: str, urlconf) -> Mapping[str, str]:
    return MappingProxyType({name: _reverse(f"{namespace}:{name}", (), language, prefix, urlconf) for name in names})
