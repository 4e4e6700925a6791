"""Reads for the public pages that combine campaigns with their totals."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.core.cache import cache as shared_cache
from django.core.paginator import Paginator
from django.db.models import Case, ExpressionWrapper, F, IntegerField, QuerySet, Value, When
from django.db.models.functions import NullIf
from django.utils.functional import cached_property
from django.utils.http import urlencode

from zbor.campaigns.models import Campaign, Kind
from zbor.campaigns.selectors import public_campaigns
from zbor.donations.selectors import collected_subquery, foundation_totals

ORDERINGS: dict[str, list[Any]] = {
    "newest": ["-published_at", "-pk"],
    # Share of the goal reached, highest first; finished campaigns are at 100% or past it.
    "closest": [F("reached_permyriad").desc(nulls_last=True), "-published_at", "-pk"],
    "most_needed": [F("still_needed").desc(nulls_last=True), "-published_at", "-pk"],
}


@cache
def _listing() -> QuerySet[Campaign]:
    # Built once (as campaigns.selectors' reads): each listing filters its own copy.
    return public_campaigns().annotate(collected_total=collected_subquery())


def _unless_fund(expression):
    """``expression`` for a personal campaign, NULL for a programme fund (sorted last)."""
    return Case(
        When(kind=Kind.FUND, then=Value(None)),
        default=ExpressionWrapper(expression, output_field=IntegerField()),
        output_field=IntegerField(),
    )


def campaign_listing(filters: dict[str, str]) -> QuerySet[Campaign]:
    """Public campaigns with ``goal_total`` and ``collected_total``, filtered and sorted."""
    campaigns = _listing().all()
    if filters.get("category"):
        campaigns = campaigns.filter(category=filters["category"])
    if filters.get("status"):
        campaigns = campaigns.filter(status=filters["status"])
    sort = filters.get("sort") or "newest"
    # A programme fund has no goal to be close to or still short of: it comes after the campaigns.
    if sort == "closest":
        campaigns = campaigns.annotate(
            reached_permyriad=_unless_fund(F("collected_total") * 10000 / NullIf(F("goal_total"), 0))
        )
    elif sort == "most_needed":
        campaigns = campaigns.annotate(still_needed=_unless_fund(F("goal_total") - F("collected_total")))
    return campaigns.order_by(*ORDERINGS[sort])


def transparency_figures():
    """Collected, paid out and held, by month and by category, per currency, from the ledger
    (``foundation_totals``: the one read of the foundation's totals).

    Returns {currency: {"months": {month: [collected, paid]}, "categories": {category: [collected, paid]}}}.
    """
    categories = dict(Campaign.objects.values_list("pk", "category"))
    figures: dict = {}
    for currency, totals in foundation_totals().items():
        by_category: dict[str, list[int]] = {}
        for campaign_id, (collected, paid) in totals.campaigns.items():
            entry = by_category.setdefault(categories.get(campaign_id, "other"), [0, 0])
            entry[0] += collected
            entry[1] += paid
        figures[currency] = {"months": totals.months, "categories": by_category}
    return figures


#: Seconds the number of public campaigns matching a filter is reused by the list's pages.
COUNT_SECONDS = 10


class ListingPaginator(Paginator):
    """The campaign list's paginator, with the number of matching campaigns counted once per
    ``COUNT_SECONDS`` per filter (in the shared cache) instead of on every render: counting
    reads every public campaign, the one cost of the list that grows with their number
    (5 ms at 10,000). A page number past the end for those seconds shows the last page."""

    def __init__(self, object_list, per_page, *, filters: dict[str, str]):
        super().__init__(object_list, per_page)
        self.count_key = "zbor:listing-count:" + urlencode(sorted((k, v or "") for k, v in filters.items()))

    @cached_property
    def count(self) -> int:
        count = shared_cache.get_or_set(self.count_key, lambda: Paginator.count.func(self), COUNT_SECONDS)  # type: ignore[attr-defined]
        return int(count or 0)
