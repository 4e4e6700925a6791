"""The public JSON API, version 1: read-only, cacheable, and nothing private.

Every endpoint reads through the same selectors and page builders as the public site, so the
API and the pages always agree. Amounts are integer minor units with the currency and a string
formatted for the requested language.
"""

from __future__ import annotations

from typing import Literal

from django.conf import settings
from django.core.paginator import Paginator
from django.utils import translation
from ninja import Field, NinjaAPI, Query, Schema

from zbor.campaigns.models import Category
from zbor.campaigns.selectors import public_campaign
from zbor.disbursements.models import Channel
from zbor.disbursements.selectors import paid_on, paid_payouts
from zbor.money import Money, format_money
from zbor.public.notes import story_markdown
from zbor.public.pages import build_cards, build_page
from zbor.public.selectors import campaign_listing, transparency_figures

from .schemas import CampaignDetailOut, CampaignOut, CampaignPage, MoneyOut, NeedOut, SpentOut, TotalsOut, UpdateOut

api = NinjaAPI(
    title="Zbor public API",
    version="1",
    description="Read-only data about public campaigns: needs, progress, updates, spending and totals. No personal data.",
    urls_namespace="api-v1",
    docs_url="/docs",
)


from .staff import router as staff_router  # noqa: E402

api.add_router("/staff/", staff_router)


def _money(amount: int, currency: str, language: str) -> MoneyOut:
    return MoneyOut(amount=amount, currency=currency, formatted=format_money(Money(amount, currency), language))


def _card_out(card, language: str) -> CampaignOut:
    progress = card.progress
    return CampaignOut(
        slug=card.slug,
        url=card.url,
        language=card.title_language,
        requested_language=language,
        is_fallback=card.is_fallback,
        summary_language=card.summary_language,
        title=card.title,
        summary=card.summary,
        display_name=card.display_name,
        name_is_pseudonym=card.name_is_pseudonym,
        category=card.category,
        category_label=card.category_label,
        status=card.status,
        location=card.location,
        published_at=card.published_at,
        kind=card.kind,
        yearly_target=_money(progress.goal.amount, progress.goal.currency, language)
        if card.is_fund and progress.goal.amount
        else None,
        goal=_money(progress.goal.amount, progress.goal.currency, language),
        collected=_money(progress.collected.amount, progress.collected.currency, language),
    )


Language = Literal["en", "ru", "be", "pl"]


class ListFilters(Schema):
    lang: Language = "en"
    category: Category | None = None
    status: Literal["published", "funded", "closed"] | None = None
    sort: Literal["newest", "closest", "most_needed"] = "newest"
    page: int = Field(1, ge=1, le=100000)


class NotFound(Schema):
    detail: str


class Invalid(Schema):
    """A parameter out of its allowed values: the answer says which."""

    detail: list[dict]


@api.get(
    "/campaigns",
    response={200: CampaignPage, 422: Invalid},
    summary="Public campaigns, filtered, sorted and paginated like the site",
)
def list_campaigns(request, filters: Query[ListFilters]):
    language = filters.lang
    with translation.override(language):
        paginator = Paginator(
            campaign_listing(
                {"category": filters.category or "", "status": filters.status or "", "sort": filters.sort or ""}
            ),
            settings.ZBOR_CAMPAIGNS_PER_PAGE,
        )
        page = paginator.get_page(filters.page)
        results = [_card_out(card, language) for card in build_cards(page.object_list, language)]
    return CampaignPage(count=paginator.count, page=page.number, pages=paginator.num_pages, results=results)


@api.get(
    "/campaigns/{slug}",
    response={200: CampaignDetailOut, 404: NotFound, 422: Invalid},
    summary="One public campaign: story, needs, updates, spending",
)
def campaign_detail(request, slug: str, lang: Language = "en"):
    language = lang
    campaign = public_campaign(slug)
    if campaign is None:
        return 404, NotFound(detail="No public campaign has this address.")
    with translation.override(language):
        page = build_page(campaign, language)
        card = page.card
        currency = campaign.currency
        return CampaignDetailOut(
            **_card_out(card, language).dict(),
            story_language=page.story_language,
            story_is_translation=page.story_is_translation,
            # Notes as the page shows them, never the internal [[note:…]] markup.
            story_markdown=story_markdown(page.story_text, language, campaign.original_language),
            story_html=str(page.story_html),
            beyond_goal=_money(page.beyond_goal, currency, language),
            moved_to_other_campaigns=_money(page.moved_out, currency, language),
            moved_from_other_campaigns=_money(page.moved_in, currency, language),
            needs=[
                NeedOut(
                    description=view.description,
                    language=view.language,
                    amount=_money(view.progress.goal.amount, currency, language),
                    collected=_money(view.progress.collected.amount, currency, language),
                )
                for view in page.needs
            ],
            updates=[
                UpdateOut(date=u.published_on, title=u.title, language=u.language, body_html=str(u.body_html))
                for u in page.updates
            ],
            spending=[
                SpentOut(
                    date=paid_on(p),
                    need=next((view.description for view in page.needs if view.pk == p.need_id), ""),
                    amount=_money(p.amount, p.currency, language),
                    channel=str(Channel(p.channel).label),
                    receipt_checked=True,
                )
                for p in paid_payouts(campaign.pk)
            ],
        )


@api.get(
    "/totals",
    response={200: list[TotalsOut], 422: Invalid},
    summary="The foundation's totals per currency, from the ledger",
)
def totals(request, lang: Language = "en"):
    language = lang
    from zbor.campaigns.selectors import public_campaigns

    counts: dict[str, int] = {}
    for currency in public_campaigns().values_list("currency", flat=True):
        counts[currency] = counts.get(currency, 0) + 1
    out = []
    for currency, entry in sorted(transparency_figures().items()):
        collected = sum(c for c, _p in entry["months"].values())
        paid = sum(p for _c, p in entry["months"].values())
        out.append(
            TotalsOut(
                currency=currency,
                collected=_money(collected, currency, language),
                paid_out=_money(paid, currency, language),
                held=_money(collected - paid, currency, language),
                campaigns=counts.get(currency, 0),
            )
        )
    return out
