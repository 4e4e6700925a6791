from functools import lru_cache
from urllib.parse import unquote, urlsplit, urlunsplit

from django.conf import settings
from django.urls import NoReverseMatch, Resolver404, get_script_prefix, get_urlconf, resolve, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language, get_language_info, override

from zbor.public.addresses import addresses

#: The pages every public page links to (base.html: ``site_urls.<name>``).
NAVIGATION = ("home", "campaign_list", "transparency", "campaigns_feed", "monthly_manage", "apply")


def public_base_url(request) -> str:
    return settings.ZBOR_PUBLIC_URL or f"{request.scheme}://{request.get_host()}"


def absolute(request, path: str) -> str:
    return public_base_url(request) + path


@lru_cache(maxsize=4096)
def _translated_path(path: str, code: str, active: str, prefix: str, urlconf) -> str | None:
    """The address of the page at ``path`` in language ``code`` (None: it has no other), as
    Django's ``translate_url`` finds it. It depends only on the URL configuration, the active
    language (which prefix resolves) and the script prefix, all in the key, as in
    ``zbor.public.addresses``: a page names its address in every language twice (hreflang
    links, the switcher), on every render."""
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return None
    name = f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name
    with override(code):
        try:
            return reverse(name, urlconf=urlconf, args=match.args, kwargs=match.kwargs)
        except NoReverseMatch:
            return None


def translate(url: str, code: str, active: str) -> str:
    """Django's ``translate_url`` (``active``: the active language), with the resolving and
    reversing remembered."""
    parsed = urlsplit(url)
    path = unquote(parsed.path)  # the URL may be encoded
    translated = _translated_path(path, code, active, get_script_prefix(), get_urlconf())
    if translated is None:
        return url
    return urlunsplit((parsed.scheme, parsed.netloc, translated, parsed.query, parsed.fragment))


def site(request):
    """Foundation name, the language switcher and hreflang alternates of the current page.

    The alternates and the switcher are worked out when a template first reads them: a page
    whose frame comes from the fragment cache (the donate page's) never does."""
    current = get_language() or settings.LANGUAGE_CODE
    base = public_base_url(request)

    def languages() -> list[dict]:
        full_path = request.get_full_path()
        return [
            {
                "code": code,
                "name_local": get_language_info(code)["name_local"],
                # The switcher keeps filters and the page number; hreflang links do not.
                "switch_path": translate(full_path, code, current),
                "url": base + translate(request.path, code, current),
                "is_current": code == current,
            }
            for code, _name in settings.LANGUAGES
        ]

    return {
        # The navigation's addresses (base.html), reversed once per language.
        "site_urls": addresses("site", NAVIGATION),
        "foundation_name": settings.ZBOR_FOUNDATION_NAME,
        "public_base_url": base,
        "site_languages": SimpleLazyObject(languages),
        "canonical_url": base + request.path,
        "x_default_url": SimpleLazyObject(lambda: base + translate(request.path, settings.LANGUAGE_CODE, current)),
    }
