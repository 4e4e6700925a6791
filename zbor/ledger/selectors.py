"""Reading the ledger. Balances come from the accounts' running totals: one row each."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from .models import Account


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
