"""Atom feeds, per language: new campaigns, and each campaign's updates."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from zbor.campaigns.selectors import public_campaign, public_campaigns
from zbor.public.pages import build_page, campaign_url
from zbor.site.context_processors import public_base_url


class NewCampaignsFeed(Feed):
    feed_type = Atom1Feed

    def title(self):
        return _("New campaigns · %(foundation)s") % {"foundation": settings.ZBOR_FOUNDATION_NAME}

    def link(self):
        return reverse("site:campaign_list")

    def subtitle(self):
        return _("Fundraising for political prisoners, their families and people who had to flee.")

    def items(self):
        # Their titles and summaries through parler, in one query for all.
        return public_campaigns().prefetch_related("translations").order_by("-published_at")[:30]

    def item_title(self, item):
        return str(item.safe_translation_getter("title", language_code=get_language(), any_language=True))

    def item_description(self, item):
        return item.safe_translation_getter("summary", language_code=get_language(), any_language=True)

    def item_link(self, item):
        return campaign_url(item)

    def item_pubdate(self, item):
        return item.published_at

    def item_guid(self, item):
        # Not the address: a campaign's slug may change, its entry must not come back as new.
        return tag_uri(self._host, timezone.localdate(item.created_at), f"campaign-{item.pk}")

    def item_guid_is_permalink(self, item):
        return False

    def get_feed(self, obj, request):
        self._host = urlsplit(public_base_url(request)).hostname or "localhost"
        return super().get_feed(obj, request)

    def item_updateddate(self, item):
        # The day only: a campaign changes when a donation completes its goal, and the exact
        # time of that change would date that donation.
        return item.updated_at.replace(hour=0, minute=0, second=0, microsecond=0)


class CampaignUpdatesFeed(Feed):
    feed_type = Atom1Feed

    def get_object(self, request, slug):
        campaign = public_campaign(slug)
        if campaign is None:
            raise Http404
        return campaign

    def title(self, obj):
        return _("Updates: %(title)s") % {
            "title": obj.safe_translation_getter("title", language_code=get_language(), any_language=True)
        }

    def link(self, obj):
        return campaign_url(obj)

    def items(self, obj):
        return build_page(obj, get_language()).updates[:30]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return str(item.body_html)

    def item_link(self, item):
        return f"{self._link}#{item.anchor}"

    def item_guid(self, item):
        return tag_uri(self._host, self._since, f"campaign-{self._campaign_pk}:{item.anchor}")

    def item_guid_is_permalink(self, item):
        return False

    def item_pubdate(self, item):
        from datetime import datetime, time

        return datetime.combine(item.published_on, time(12), timezone.get_current_timezone())

    def get_feed(self, obj, request):
        self._link = campaign_url(obj)
        self._host = urlsplit(public_base_url(request)).hostname or "localhost"
        # The day the campaign was created: fixed for its lifetime, unlike titles and dates.
        self._since = timezone.localdate(obj.created_at)
        self._campaign_pk = obj.pk
        return super().get_feed(obj, request)


def tag_uri(host: str, since, specific: str) -> str:
    """An Atom entry id as RFC 4151 ``tag:`` URI: absolute, free of spaces and the same for the
    entry's whole life (feed readers show an entry again as new when its id changes)."""
    return f"tag:{host},{since.isoformat()}:{specific}"
