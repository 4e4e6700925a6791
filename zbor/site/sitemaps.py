"""sitemap.xml: every public page in every language, with hreflang alternates."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from zbor.campaigns.selectors import public_campaigns


class StaticSitemap(Sitemap):
    i18n = True
    alternates = True
    x_default = True
    changefreq = "daily"

    def items(self):
        return ["site:home", "site:campaign_list", "site:transparency"]

    def location(self, item):
        return reverse(item)


class CampaignSitemap(Sitemap):
    i18n = True
    alternates = True
    x_default = True
    changefreq = "daily"

    def items(self):
        return public_campaigns().order_by("pk")

    def location(self, item):
        return reverse("site:campaign_detail", kwargs={"slug": item.slug})

    def lastmod(self, item):
        return item.updated_at.date()  # the day only, as in the feeds: no donation's time


SITEMAPS = {"pages": StaticSitemap, "campaigns": CampaignSitemap}
