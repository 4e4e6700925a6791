"""Reads for the public pages that combine campaigns with their totals."""

from __future__ import annotations

from django.db.models import ExpressionWrapper, F, IntegerField, QuerySet
from django.db.models.functions import NullIf

from zbor.campaigns.models import Campaign
from zbor.campaigns.selectors import public_campaigns
from zbor.donations.selectors import collected_subquery

ORDERINGS = {
    "newest": ["-published_at", "-pk"],
    # Share of the goal reached, highest first; finished campaigns are at 100% or past it.
    "closest": [F("reached_permyriad").desc(nulls_last=True), "-published_at", "-pk"],
    "most_needed": ["-still_needed", "-published_at", "-pk"],
}


def campaign_listing(filters: dict[str, str]) -> QuerySet[Campaign]:
    """Public campaigns with ``goal_total`` and ``collected_total``, filtered and sorted."""
    campaigns = public_campaigns().annotate(collected_total=collected_subquery())
    if filters.get("category"):
        campaigns = campaigns.filter(category=filters["category"])
    if filters.get("status"):
        campaigns = campaigns.filter(status=filters["status"])
    sort = filters.get("sort") or "newest"
    if sort == "closest":
        campaigns = campaigns.annotate(
            reached_permyriad=ExpressionWrapper(
                F("collected_total") * 10000 / NullIf(F("goal_total"), 0), output_field=IntegerField()
            )
        )
    elif sort == "most_needed":
        campaigns = campaigns.annotate(
            still_needed=ExpressionWrapper(F("goal_total") - F("collected_total"), output_field=IntegerField())
        )
    return campaigns.order_by(*ORDERINGS[sort])
