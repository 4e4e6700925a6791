"""Provider webhooks. The donor-facing pages of the flow are in zbor.site.donate_views."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from zbor import metrics
from zbor.payments import registry
from zbor.payments.base import InvalidWebhook, ProviderUnavailable

from .events import receive_event


def _receive(request, name: str) -> HttpResponse:
    """Verify, store once, handle: every provider's webhook. Bad signature or malformed event:
    400 and nothing stored. An event type Zbor does not use is answered 200 and not stored. The
    provider not answering while the event is read (BTCPay's invoice): 503, delivered again. A
    handling error answers 500, so the provider delivers the event again; the stored copy is
    then handled again."""
    provider = registry.get(name)
    if provider is None:
        raise Http404
    try:
        event = provider.parse_webhook(request.body, {k.lower(): v for k, v in request.headers.items()})
    except InvalidWebhook:
        metrics.count_webhook_failure(name, "refused")
        return HttpResponse("invalid webhook: bad signature or malformed event", status=400, content_type="text/plain")
    except ProviderUnavailable:
        metrics.count_webhook_failure(name, "unavailable")
        return HttpResponse("try again later", status=503, content_type="text/plain")
    if event is None:
        return HttpResponse("ignored", content_type="text/plain")
    try:
        record = receive_event(event)
    except Exception:
        metrics.count_webhook_failure(name, "failed")
        raise  # a 500: the provider delivers it again
    return HttpResponse(record.status, content_type="text/plain")


@csrf_exempt
@require_POST
def stripe_webhook(request):
    """Stripe's events (signature with a timestamp: a stale one is refused too)."""
    return _receive(request, "stripe")


@csrf_exempt
@require_POST
def btcpay_webhook(request):
    """BTCPay Server's invoice events (``BTCPay-Sig``): ``zbor.payments.btcpay``."""
    return _receive(request, "btcpay")
