from urllib.parse import unquote, urlsplit, urlunsplit

from django.conf import settings
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language, get_language_info, override

from zbor.public.addresses import address

#: The pages every public page links to (base.html: ``site_urls.<name>``).
NAVIGATION = ("home", "campaign_list", "transparency", "campaigns_feed")


def public_base_url(request) -> str:
    return settings.ZBOR_PUBLIC_URL or f"{request.scheme}://{request.get_host()}"


def absolute(request, path: str) -> str:
    return public_base_url(request) + path


def _translator():
    """Django's ``translate_url``, remembering what it resolved and reversed: a page names its
    address in every language twice (hreflang links, the switcher), from one resolve."""
    matches: dict = {}
    paths: dict = {}

    def translate(url: str, code: str) -> str:
        parsed = urlsplit(url)
        path = unquote(parsed.path)  # the URL may be encoded
        if path not in matches:
            try:
                matches[path] = resolve(path)
            except Resolver404:
                matches[path] = None
        match = matches[path]
        if match is None:
            return url
        if (path, code) not in paths:
            name = f"{match.namespace}:{match.url_name}" if match.namespace else match.url_name
            with override(code):
                try:
                    paths[path, code] = reverse(name, args=match.args, kwargs=match.kwargs)
                except NoReverseMatch:
                    paths[path, code] = None
        translated = paths[path, code]
        if translated is None:
            return url
        return urlunsplit((parsed.scheme, parsed.netloc, translated, parsed.query, parsed.fragment))

    return translate


def site(request):
    """Foundation name, the language switcher and hreflang alternates of the current page.

    The alternates and the switcher are worked out when a template first reads them: a page
    whose frame comes from the fragment cache (the donate page's) never does."""
    current = get_language() or settings.LANGUAGE_CODE
    base = public_base_url(request)
    translate = _translator()

    def languages() -> list[dict]:
        full_path = request.get_full_path()
        return [
            {
                "code": code,
                "name_local": get_language_info(code)["name_local"],
                # The switcher keeps filters and the page number; hreflang links do not.
                "switch_path": translate(full_path, code),
                "url": base + translate(request.path, code),
                "is_current": code == current,
            }
            for code, _name in settings.LANGUAGES
        ]

    return {
        # The navigation's addresses (base.html), each reversed once per language.
        "site_urls": {name: address(f"site:{name}") for name in NAVIGATION},
        "foundation_name": settings.ZBOR_FOUNDATION_NAME,
        "public_base_url": base,
        "site_languages": SimpleLazyObject(languages),
        "canonical_url": base + request.path,
        "x_default_url": SimpleLazyObject(lambda: base + translate(request.path, settings.LANGUAGE_CODE)),
    }
