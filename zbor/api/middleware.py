"""Response headers for the public API: cacheable by a CDN, readable from any site (GET only)."""

from __future__ import annotations

from django.conf import settings

PREFIX = "/api/v1/"
STAFF = "/api/v1/staff/"


class PublicApiHeadersMiddleware:
    """Cache-Control and CORS on public API reads. Listed after ConditionalGetMiddleware, which
    then adds the ETag and answers 304 to a request that already has this version.

    No Last-Modified: the newest ledger movement's time, to the second, beside a total that
    just moved, would say when a donation of that amount was made."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(STAFF):
            response["Cache-Control"] = "no-store"  # staff data: never in a shared cache
            return response
        if not request.path.startswith(PREFIX) or request.method not in ("GET", "HEAD"):
            return response
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Allow-Methods"] = "GET, HEAD"
        if response.status_code == 200:
            response["Cache-Control"] = f"public, max-age={settings.ZBOR_API_MAX_AGE}"
        return response
