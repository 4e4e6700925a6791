"""Public reads of payouts: what was paid for which need, when and how — never to whom."""

from __future__ import annotations

import datetime

from .models import Payout, PayoutStatus


def paid_payouts(campaign_id: int) -> list[Payout]:
    return list(
        Payout.objects.filter(campaign_id=campaign_id, status=PayoutStatus.PAID)
        .only("need_id", "amount", "currency", "channel", "paid_at")
        .order_by("paid_at", "pk")
    )


def paid_on(payout: Payout) -> datetime.date:
    """The day a paid payout was paid. A paid payout always has ``paid_at`` (the database
    constraint ``payout_paid_has_proof``)."""
    assert payout.paid_at is not None, f"paid payout {payout.pk} has no paid_at"
    return payout.paid_at.date()
