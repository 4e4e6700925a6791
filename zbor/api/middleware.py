"""Response headers for the public API: cacheable by a CDN, readable from any site (GET only);
query parameters an endpoint does not document are refused."""

from __future__ import annotations

import functools
import re

from django.conf import settings
from django.http import JsonResponse

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
        if (
            request.method in ("GET", "HEAD")
            and request.path.startswith(PREFIX)
            and not request.path.startswith(STAFF)
        ):
            refused = _undocumented_parameters(request)
            if refused is not None:
                response = refused
            else:
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
            vary = [
                v.strip()
                for v in response.get("Vary", "").split(",")
                if v.strip() and v.strip().lower() != "accept-language"
            ]
            if vary:
                response["Vary"] = ", ".join(vary)
            elif response.has_header("Vary"):
                del response["Vary"]
        return response


@functools.cache
def _documented_parameters() -> list[tuple[re.Pattern, frozenset[str]]]:
    """Each public GET endpoint's address and the query parameters its OpenAPI schema lists."""
    from .views import api

    endpoints = []
    for path, operations in api.get_openapi_schema(path_prefix=PREFIX.rstrip("/"))["paths"].items():
        if "get" in operations and not path.startswith(STAFF):
            pattern = "[^/]+".join(re.escape(part) for part in re.split(r"\{[^}/]+\}", path))
            names = frozenset(p["name"] for p in operations["get"].get("parameters", []) if p["in"] == "query")
            endpoints.append((re.compile(pattern + "/?$"), names))
    return endpoints


def _undocumented_parameters(request) -> JsonResponse | None:
    """A 422 naming the query parameters this endpoint does not take, or None.

    Each query string is another document to every cache: an unknown parameter with a random
    value (``?x=…``) would make each request a new answer, built anew. Refused at once, in the
    shape of the API's other validation errors, it costs next to nothing."""
    if not request.GET:
        return None
    for pattern, names in _documented_parameters():
        if pattern.match(request.path):
            unknown = [name for name in request.GET if name not in names]
            if not unknown:
                return None
            takes = ", ".join(sorted(names)) or "none"
            return JsonResponse(
                {
                    "detail": [
                        {
                            "type": "unknown_parameter",
                            "loc": ["query", name],
                            "msg": f"Unknown query parameter. This endpoint takes: {takes}.",
                        }
                        for name in unknown
                    ]
                },
                status=422,
            )
    return None
