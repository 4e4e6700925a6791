"""Public reads of payouts: what was paid for which need, when and how — never to whom."""

from __future__ import annotations

from .models import Payout, PayoutStatus


def paid_payouts(campaign_id: int) -> list[Payout]:
    return list(
        Payout.objects.filter(campaign_id=campaign_id, status=PayoutStatus.PAID)
        .only("need_id", "amount", "currency", "channel", "paid_at")
        .order_by("paid_at", "pk")
    )
