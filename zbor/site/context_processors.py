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
    languages = []
    for code, _name in settings.LANGUAGES:
        path = translate_url(request.path, code)
        languages.append(
            {
                "code": code,
                "name_local": get_language_info(code)["name_local"],
                # The switcher keeps filters and the page number; hreflang links do not.
                "switch_path": translate_url(request.get_full_path(), code),
                "url": absolute(request, path),
                "is_current": code == current,
            }
        )
    return {
        "foundation_name": settings.ZBOR_FOUNDATION_NAME,
        "public_base_url": public_base_url(request),
        "site_languages": languages,
        "canonical_url": absolute(request, request.path),
        "x_default_url": absolute(request, translate_url(request.path, settings.LANGUAGE_CODE)),
    }
