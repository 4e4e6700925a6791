"""Response headers for the public API: cacheable by a CDN, readable from any site (GET only)."""

from __future__ import annotations

from django.conf import settings
from django.utils.http import http_date

PREFIX = "/api/v1/"
STAFF = "/api/v1/staff/"


class PublicApiHeadersMiddleware:
    """Cache-Control and CORS on public API reads, and Last-Modified from the newest campaign
    change or ledger movement. Listed after ConditionalGetMiddleware, which then adds the ETag
    and answers 304 to a request that already has this version."""

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
            if request.path.endswith(("/openapi.json", "/docs")):
                return response  # the schema and its page change only with a release
            from .views import last_modified

            stamp = last_modified()
            if stamp is not None:
                response["Last-Modified"] = http_date(stamp)
        return response
