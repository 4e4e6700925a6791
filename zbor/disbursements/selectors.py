"""Public reads of payouts: what was paid for which need, when and how — never to whom."""

from __future__ import annotations

import datetime
from collections.abc import Collection

from django.db.models import F, Q, Sum
from django.utils import timezone

from .models import RESERVING, Move, MoveStatus, Payout, PayoutStatus


def paid_payouts(campaign_id: int) -> list[Payout]:
    return list(
        Payout.objects.filter(campaign_id=campaign_id, status=PayoutStatus.PAID)
        .only("need_id", "amount", "currency", "channel", "paid_at")
        .order_by("paid_at", "pk")
    )


def paid_on(payout: Payout) -> datetime.date:
    """The day a paid payout was paid. A paid payout always has ``paid_at`` (the database
    constraint ``payout_paid_has_proof``). The day in the site's timezone, as the transparency
    page's months are (``TruncMonth`` in the current timezone): the UTC date would put a payout
    made late in the evening in Minsk or Warsaw on the next day, or in the next month."""
    assert payout.paid_at is not None, f"paid payout {payout.pk} has no paid_at"
    return timezone.localdate(payout.paid_at)


def committed_by_need(need_ids: Collection[int]) -> dict[int, int]:
    """Per need, what its payouts paid, approved or requested add up to: what its amount may not
    go below (registered with ``zbor.campaigns.floors`` in this app's ``ready``)."""
    rows = (
        Payout.objects.filter(need_id__in=need_ids, status__in=(PayoutStatus.PAID, *RESERVING))
        .values("need_id")
        .annotate(total=Sum("amount"))
        .values_list("need_id", "total")
    )
    return {need_id: total for need_id, total in rows}


def moved_between_campaigns(campaign_id: int) -> tuple[int, int]:
    """(moved out to other campaigns, moved in from other campaigns): the approved moves of
    money that changed what this campaign counts as collected (``moves``). One query."""
    across = Move.objects.filter(status=MoveStatus.APPROVED).exclude(source_campaign_id=F("target_campaign_id"))
    totals = across.filter(Q(source_campaign_id=campaign_id) | Q(target_campaign_id=campaign_id)).aggregate(
        out=Sum("amount", filter=Q(source_campaign_id=campaign_id)),
        into=Sum("amount", filter=Q(target_campaign_id=campaign_id)),
    )
    return int(totals["out"] or 0), int(totals["into"] or 0)
