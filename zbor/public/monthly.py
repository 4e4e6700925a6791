"""Monthly giving on the transparency page: per public campaign with active monthly gifts and in
total, per currency, how many gifts are active and what they bring each month.

Counts and sums only, never a name with an amount: the figures come from
``donations.selectors.active_monthly_totals`` (kept for a quarter of an hour, as the campaign
pages' "N people give monthly", so they move in steps). A campaign the public no longer sees
(taken offline) is not named: its gifts count in the total, on a row of their own.

    Two active €10 gifts and one of €25 to "Help to start again": 3 people, €45 a month.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zbor.campaigns.selectors import campaign_texts, public_campaigns
from zbor.campaigns.translation import pick_from
from zbor.donations.selectors import active_monthly_totals
from zbor.money import Money, format_money

from .pages import campaign_url


@dataclass(frozen=True)
class MonthlyRow:
    title: str
    #: The language the title is in (the page's, or the original's while it is not translated).
    title_language: str
    url: str
    supporters: int
    monthly: str


@dataclass
class MonthlyIncome:
    currency: str
    supporters: int = 0
    amount: int = 0
    rows: list[MonthlyRow] = field(default_factory=list)
    #: Active gifts to campaigns the public does not see: counted, never named.
    unnamed_supporters: int = 0
    unnamed_amount: int = 0
    #: Formatted in the page's language by ``monthly_income``.
    monthly: str = ""
    unnamed_monthly: str = ""


def monthly_income(language: str) -> list[MonthlyIncome]:
    """One entry per currency with active monthly gifts, its campaigns by title (read only when
    there are gifts: a query for the campaigns, two for their texts)."""
    totals = active_monthly_totals()
    if not totals:
        return []
    campaigns = {c.pk: c for c in public_campaigns().filter(pk__in={pk for pk, *_rest in totals})}
    texts = campaign_texts(list(campaigns.values()))
    by_currency: dict[str, MonthlyIncome] = {}

    def money(amount: int, currency: str) -> str:
        return format_money(Money(amount, currency), language)

    for campaign_id, currency, supporters, amount in totals:
        entry = by_currency.setdefault(currency, MonthlyIncome(currency))
        entry.supporters += supporters
        entry.amount += amount
        campaign = campaigns.get(campaign_id)
        if campaign is None:
            entry.unnamed_supporters += supporters
            entry.unnamed_amount += amount
            continue
        picked = pick_from(texts[campaign_id].own, language, campaign.original_language, field="title")
        entry.rows.append(
            MonthlyRow(
                title=picked.translation.title if picked else campaign.slug,
                title_language=picked.language if picked else language,
                url=campaign_url(campaign),
                supporters=supporters,
                monthly=money(amount, currency),
            )
        )
    for entry in by_currency.values():
        entry.rows.sort(key=lambda row: (-row.supporters, row.title.lower()))
        entry.monthly = money(entry.amount, entry.currency)
        entry.unnamed_monthly = money(entry.unnamed_amount, entry.currency)
    return [by_currency[currency] for currency in sorted(by_currency)]
