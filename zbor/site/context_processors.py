import functools

from django.conf import settings
from django.urls import translate_url
from django.utils.translation import get_language, get_language_info


def public_base_url(request) -> str:
    return settings.ZBOR_PUBLIC_URL or f"{request.scheme}://{request.get_host()}"


def absolute(request, path: str) -> str:
    return public_base_url(request) + path


def site(request):
    """Foundation name, the language switcher and hreflang alternates of the current page."""
    current = get_language() or settings.LANGUAGE_CODE
    base = public_base_url(request)
    return {
        "foundation_name": settings.ZBOR_FOUNDATION_NAME,
        "public_base_url": base,
        "site_languages": _languages(current, request.path, request.get_full_path(), base),
        "canonical_url": base + request.path,
        "x_default_url": base + _translated(request.path, settings.LANGUAGE_CODE),
    }


@functools.lru_cache(maxsize=4096)
def _translated(path: str, code: str) -> str:
    return translate_url(path, code)


def _languages(current: str, path: str, full_path: str, base: str) -> tuple[dict, ...]:
    """The switcher's and the hreflang links' entries. Each address is a URL resolved and
    reversed again (``translate_url``), a good part of a page's render: each is worked out once
    per path and language (``_translated``, bounded: addresses nobody links to take turns)."""
    return tuple(
        {
            "code": code,
            "name_local": get_language_info(code)["name_local"],
            # The switcher keeps filters and the page number; hreflang links do not.
            "switch_path": _translated(full_path, code),
            "url": base + _translated(path, code),
            "is_current": code == current,
        }
        for code, _name in settings.LANGUAGES
    )
