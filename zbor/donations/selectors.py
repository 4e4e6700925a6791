"""What campaigns and needs have collected: the one place public totals are read from.

The ledger issue replaces the aggregate over donations with ledger balances behind these same
functions, so pages and the API do not change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from .models import Donation, DonationStatus


def _succeeded():
    return Donation.objects.filter(status=DonationStatus.SUCCEEDED)


def collected_by_campaign(campaign_ids: Iterable[int]) -> dict[int, int]:
    """Minor units collected per campaign id (campaigns with nothing are absent)."""
    ids = list(campaign_ids)
    if not ids:
        return {}
    rows = _succeeded().filter(campaign_id__in=ids).values("campaign_id").annotate(total=Sum("amount")).order_by()
    return {row["campaign_id"]: row["total"] for row in rows}


def collected_subquery():
    """An expression for a Campaign queryset: minor units collected, 0 when nothing."""
    total = (
        _succeeded()
        .filter(campaign_id=OuterRef("pk"))
        .order_by()
        .values("campaign_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(total), 0)


def earmarked_by_need(campaign_id: int) -> dict[int | None, int]:
    """Minor units per need id for one campaign; key None holds what was given unearmarked."""
    rows = _succeeded().filter(campaign_id=campaign_id).values("need_id").annotate(total=Sum("amount")).order_by()
    return {row["need_id"]: row["total"] for row in rows}


def allocate_to_needs(needs: Sequence[tuple[int, int]], earmarked: dict[int | None, int]) -> dict[int, int]:
    """How much of each need is covered, from earmarked money first, then the general pot in order.

    ``needs`` is [(need_id, amount)] in the campaign's order. Money earmarked to a need counts
    for that need up to its amount; unearmarked money (and any earmarked surplus) fills the
    needs one after another. No need shows more than its amount.

    >>> allocate_to_needs([(1, 500), (2, 500), (3, 1000)], {2: 100, None: 583})
    {1: 500, 2: 183, 3: 0}
    """
    covered = {need_id: min(earmarked.get(need_id, 0), amount) for need_id, amount in needs}
    surplus = sum(earmarked.get(need_id, 0) - covered[need_id] for need_id, _ in needs)
    pot = earmarked.get(None, 0) + surplus
    for need_id, amount in needs:
        take = min(pot, amount - covered[need_id])
        covered[need_id] += take
        pot -= take
    return covered
