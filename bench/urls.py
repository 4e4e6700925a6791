"""Zbor's URLs plus the bench's yardstick: a minimal Django view that makes one query."""

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as zbor_urlpatterns
from zbor.campaigns.models import Campaign


def one_query(request):
    return HttpResponse(f"campaigns: {Campaign.objects.count()}", content_type="text/plain")


urlpatterns = [path("bench/one-query/", one_query), *zbor_urlpatterns]
