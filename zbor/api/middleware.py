"""Response headers for the public API: cacheable by a CDN, readable from any site (GET only)."""

from __future__ import annotations

from django.conf import settings

from zbor.db import public_reads

PREFIX = "/api/v1/"
STAFF = "/api/v1/staff/"


class PublicApiHeadersMiddleware:
    """Cache-Control and CORS on public API reads. Listed before LocaleMiddleware and
    ConditionalGetMiddleware, so it sees their answers: the ETag (or the 304) is already there,
    and the ``Vary: Accept-Language`` LocaleMiddleware adds is taken off again — the API's
    language is its ``lang`` parameter, never the browser's — so the answer is one public
    document that every cache may keep.

    No Last-Modified: the newest ledger movement's time, to the second, beside a total that
    just moved, would say when a donation of that amount was made."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD") and request.path.startswith(PREFIX) and not request.path.startswith(STAFF):
            with public_reads():  # from the read replica, when there is one
                response = self.get_response(request)
        else:
            response = self.get_response(request)
        if request.path.startswith(STAFF):
            response["Cache-Control"] = "no-store"  # staff data: never in a shared cache
            return response
        if not request.path.startswith(PREFIX) or request.method not in ("GET", "HEAD"):
            return response
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Allow-Methods"] = "GET, HEAD"
        if response.status_code in (200, 304):
            response["Cache-Control"] = f"public, max-age={settings.ZBOR_API_MAX_AGE}"
            vary = [v.strip() for v in response.get("Vary", "").split(",") if v.strip() and v.strip().lower() != "accept-language"]
            if vary:
                response["Vary"] = ", ".join(vary)
            elif response.has_header("Vary"):
                del response["Vary"]
        return response
