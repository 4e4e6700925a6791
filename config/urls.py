from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap as sitemap_view
from django.urls import include, path
from django.views.generic import RedirectView
from django.views.static import serve

from zbor.api.views import api
from zbor.donations import views as donation_views
from zbor.site import embed
from zbor.site import views as site_views
from zbor.site.fastpath import public_page
from zbor.site.sitemaps import SITEMAPS

admin.site.site_header = settings.ZBOR_FOUNDATION_NAME
admin.site.site_title = settings.ZBOR_FOUNDATION_NAME

urlpatterns = [
    path(settings.ZBOR_ADMIN_PATH, admin.site.urls),
    path("robots.txt", site_views.robots_txt, name="robots"),
    path("webhooks/stripe/", donation_views.stripe_webhook, name="stripe_webhook"),
    path("webhooks/btcpay/", donation_views.btcpay_webhook, name="btcpay_webhook"),
    # The API's documentation answers at /api/v1/docs; with the slash it redirects there.
    path("api/v1/docs/", RedirectView.as_view(url="/api/v1/docs", permanent=True, query_string=True)),
    path("api/v1/", api.urls),
    path("sitemap.xml", public_page(sitemap_view, params=("p",)), {"sitemaps": SITEMAPS}, name="sitemap"),
    path("embed/campaigns/<slug:slug>/", embed.widget, name="embed_widget"),
    path("embed/campaigns/<slug:slug>/badge.svg", embed.badge, name="embed_badge"),
]
urlpatterns += i18n_patterns(path("", include("zbor.site.urls")), prefix_default_language=True)

if settings.DEBUG:
    # Development only: in production the front server serves uploaded media.
    urlpatterns += [path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT})]

# Every error a person can meet, translated by the address's language prefix and styled
# (zbor/site/errors.py); CSRF_FAILURE_VIEW in the settings points there too.
handler400 = "zbor.site.errors.bad_request"
handler403 = "zbor.site.errors.permission_denied"
handler404 = "zbor.site.errors.page_not_found"
handler500 = "zbor.site.errors.server_error"
