"""Reading the ledger. Balances come from the accounts' running totals: one row each."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db.models import F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from .models import Account, Transfer


def credit_balances(codes: Iterable[str]) -> dict[str, int]:
    """Credit balance (credits − debits) per account code; unknown codes are absent."""
    return {
        code: credits - debits
        for code, credits, debits in Account.objects.filter(code__in=list(codes)).values_list(
            "code", "credits_posted", "debits_posted"
        )
    }


def owner_credit_total_subquery(owner_kind: str, kinds: Iterable[str]):
    """An expression for a queryset whose pk is an owner id: the owner's summed credit balance."""
    total = (
        Account.objects.filter(owner_kind=owner_kind, owner_id=OuterRef("pk"), kind__in=list(kinds))
        .order_by()
        .values("owner_id")
        .annotate(total=Sum(F("credits_posted") - F("debits_posted")))
        .values("total")
    )
    return Coalesce(Subquery(total), 0)


def owner_transfer_totals(
    owner_kind: str, *, owner_ids: Iterable[int] | None = None, since: datetime.datetime | None = None
) -> list[tuple[str, datetime.date, int, str, str, int]]:
    """Transfers into and out of the accounts of ``owner_kind``'s owners, summed per month,
    owner, kind and currency: (side, first day of the month, owner id, kind, currency, total),
    side "credit" for what came into the owner's accounts and "debit" for what left them.
    Only those owners ``owner_ids`` names, and only transfers made at ``since`` or later, when given."""
    rows = []
    for side in ("credit", "debit"):
        filters: dict = {f"{side}_account__owner_kind": owner_kind}
        if owner_ids is not None:
            filters[f"{side}_account__owner_id__in"] = list(owner_ids)
        if since is not None:
            filters["created_at__gte"] = since
        query = (
            Transfer.objects.filter(**filters)
            # Months in the site's timezone, named explicitly: the same days the pages show
            # (``paid_on``), not UTC's, which would move a payout made on the evening of the
            # last day of a month into the next one.
            .annotate(month=TruncMonth("created_at", tzinfo=timezone.get_current_timezone()))
            .values_list("month", f"{side}_account__owner_id", "kind", "currency")
            .annotate(total=Sum("amount"))
            .order_by()
        )
        for month, owner_id, kind, currency, total in query:
            if isinstance(month, datetime.datetime):
                month = timezone.localtime(month).date() if timezone.is_aware(month) else month.date()
            first_day = month.replace(day=1)
            # PostgreSQL sums integers as numeric (Decimal): back to int minor units.
            rows.append((side, first_day, owner_id, kind, currency, int(total)))
    return rows


def provider_holds(provider: str, currency: str) -> int:
    """What ``provider`` holds for the foundation in ``currency``, at book value: its clearing
    account's debit balance (money in, less fees and what was taken out) less the balances of
    its contra accounts, money given back to donors (``refunds``) or taken back (``disputes``).
    For the crypto wallet (``chart.CRYPTO_WALLET``) it is the book value of the crypto held."""
    codes = [f"provider:{provider}:{currency}", f"refunds:{provider}:{currency}", f"disputes:{provider}:{currency}"]
    balances = credit_balances(codes)
    clearing, refunds, disputes = (balances.get(code, 0) for code in codes)
    return -clearing - refunds - disputes
