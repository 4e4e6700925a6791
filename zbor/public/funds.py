"""Programme funds on the public pages: their progress is counted per calendar year."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.utils import timezone

from zbor.campaigns.models import Campaign, Kind
from zbor.donations.selectors import collected_since
from zbor.money import Money, format_money

from .progress import Progress


def year_start(today: datetime.date | None = None) -> datetime.datetime:
    """1 January of this year, midnight in the site's timezone: where a fund's year begins."""
    today = today or timezone.localdate()
    return timezone.make_aware(datetime.datetime(today.year, 1, 1))  # noqa: DTZ001 (made aware here)


def funds_this_year(campaigns: Iterable[Campaign]) -> dict[int, int]:
    """What each programme fund among ``campaigns`` collected this calendar year, by id (two
    queries, none when there is no fund among them)."""
    return collected_since([c.pk for c in campaigns if c.kind == Kind.FUND], year_start())


def card_progress(campaign: Campaign, language: str, *, collected: int, goal: int, this_year: int | None) -> Progress:
    """A personal campaign's ``collected`` against its ``goal``; a fund's ``this_year`` against
    its yearly target (zero when it has none: no bar)."""
    currency = campaign.currency
    if campaign.kind == Kind.FUND:
        return Progress(Money(this_year or 0, currency), Money(campaign.yearly_target or 0, currency), language, True)
    return Progress(Money(collected, currency), Money(goal, currency), language)


def fund_total_text(campaign: Campaign, collected: int, language: str) -> str:
    """A fund's total since it opened, formatted; "" for a personal campaign (its progress says it)."""
    return format_money(Money(collected, campaign.currency), language) if campaign.kind == Kind.FUND else ""
