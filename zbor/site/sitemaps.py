"""sitemap.xml: every public page in every language, with hreflang alternates."""

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from zbor.campaigns.selectors import public_campaigns


class _XDefaultSitemap(Sitemap):
    """hreflang alternates with x-default on the default language's address (``/en/…``), as
    every page's own ``<link rel="alternate" hreflang="x-default">`` says. Django's ``x_default``
    would name the unprefixed address (``/``), which is only a redirect here."""

    i18n = True
    alternates = True

    def get_urls(self, page=1, site=None, protocol=None):
        urls = super().get_urls(page=page, site=site, protocol=protocol)
        for url in urls:
            default = next((a for a in url["alternates"] if a["lang_code"] == settings.LANGUAGE_CODE), None)
            if default is not None:
                url["alternates"].append({"lang_code": "x-default", "location": default["location"]})
        return urls


class StaticSitemap(_XDefaultSitemap):
    changefreq = "daily"

    def items(self):
        return ["site:home", "site:campaign_list", "site:transparency"]

    def location(self, item):
        return reverse(item)


class CampaignSitemap(_XDefaultSitemap):
    changefreq = "daily"

    def items(self):
        return public_campaigns().order_by("pk")

    def location(self, item):
        return reverse("site:campaign_detail", kwargs={"slug": item.slug})

    def lastmod(self, item):
        return item.updated_at.date()  # the day only, as in the feeds: no donation's time


SITEMAPS = {"pages": StaticSitemap, "campaigns": CampaignSitemap}
