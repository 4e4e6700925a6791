"""The public JSON API, version 1: read-only, cacheable, and nothing private.

Every endpoint reads through the same selectors and page builders as the public site, so the
API and the pages always agree. Amounts are integer minor units with the currency and a string
formatted for the requested language.
"""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Max
from django.http import Http404
from django.utils import translation
from ninja import NinjaAPI, Query, Schema
from ninja.errors import HttpError

from zbor.campaigns.models import Category, Status
from zbor.campaigns.selectors import public_campaign
from zbor.campaigns.translation import pick_translation
from zbor.disbursements.models import Channel
from zbor.disbursements.selectors import paid_payouts
from zbor.ledger.models import TransferGroup
from zbor.money import Money, format_money
from zbor.site.pages import build_cards, build_page
from zbor.site.selectors import campaign_listing, transparency_figures

from .schemas import CampaignDetailOut, CampaignOut, CampaignPage, MoneyOut, TotalsOut

LANGUAGES = [code for code, _name in settings.LANGUAGES]

api = NinjaAPI(
    title="Zbor public API",
    version="1",
    description="Read-only data about public campaigns: needs, progress, updates, spending and totals. No personal data.",
    urls_namespace="api-v1",
    docs_url="/docs",
)


def _money(amount: int, currency: str, language: str) -> MoneyOut:
    return MoneyOut(amount=amount, currency=currency, formatted=format_money(Money(amount, currency), language))


def _language(lang: str | None) -> str:
    if lang in (None, ""):
        return settings.LANGUAGE_CODE
    if lang not in LANGUAGES:
        raise HttpError(400, f"lang must be one of {', '.join(LANGUAGES)}")
    return lang


def _card_out(card, language: str) -> CampaignOut:
    progress = card.progress
    return CampaignOut(
        slug=card.slug,
        url=card.url,
        language=language,
        title=card.title,
        summary=card.summary,
        display_name=card.display_name,
        name_is_pseudonym=card.name_is_pseudonym,
        category=card.category,
        category_label=card.category_label,
        status=card.status,
        location=card.location,
        published_at=card.published_at,
        goal=_money(progress.goal.amount, progress.goal.currency, language),
        collected=_money(progress.collected.amount, progress.collected.currency, language),
    )


class ListFilters(Schema):
    lang: str | None = None
    category: Category | None = None
    status: str | None = None
    sort: str | None = None
    page: int = 1


@api.get("/campaigns", response=CampaignPage, summary="Public campaigns, filtered, sorted and paginated like the site")
def list_campaigns(request, filters: Query[ListFilters]):
    language = _language(filters.lang)
    if filters.status not in (None, "", Status.PUBLISHED, Status.FUNDED, Status.CLOSED):
        raise HttpError(400, "status must be published, funded or closed")
    if filters.sort not in (None, "", "newest", "closest", "most_needed"):
        raise HttpError(400, "sort must be newest, closest or most_needed")
    if filters.page < 1:
        raise HttpError(400, "page starts at 1")
    with translation.override(language):
        paginator = Paginator(
            campaign_listing({"category": filters.category or "", "status": filters.status or "", "sort": filters.sort or ""}),
            settings.ZBOR_CAMPAIGNS_PER_PAGE,
        )
        page = paginator.get_page(filters.page)
        results = [_card_out(card, language) for card in build_cards(page.object_list, language)]
    return CampaignPage(count=paginator.count, page=page.number, pages=paginator.num_pages, results=results)


@api.get("/campaigns/{slug}", response=CampaignDetailOut, summary="One public campaign: story, needs, updates, spending")
def campaign_detail(request, slug: str, lang: str | None = None):
    language = _language(lang)
    campaign = public_campaign(slug)
    if campaign is None:
        raise Http404
    with translation.override(language):
        page = build_page(campaign, language)
        card = page.card
        story = pick_translation(campaign, language, campaign.original_language, field="story")
        needs = list(campaign.needs.all())
        currency = campaign.currency
        return CampaignDetailOut(
            **_card_out(card, language).dict(),
            story_language=page.story_language,
            story_is_translation=page.story_is_translation,
            story_markdown=story.translation.story if story else "",
            story_html=str(page.story_html),
            beyond_goal=_money(_beyond(page, card), currency, language),
            needs=[
                {
                    "description": view.description,
                    "amount": _money(need.amount, currency, language),
                    "collected": _money(view.progress.collected.amount, currency, language),
                }
                for need, view in zip(needs, page.needs, strict=True)
            ],
            updates=[{"date": u.published_on, "title": u.title, "body_html": str(u.body_html)} for u in page.updates],
            spending=[
                {
                    "date": p.paid_at.date(),
                    "need": next((v.description for n, v in zip(needs, page.needs, strict=True) if n.pk == p.need_id), ""),
                    "amount": _money(p.amount, p.currency, language),
                    "channel": str(Channel(p.channel).label),
                    "receipt_checked": True,
                }
                for p in paid_payouts(campaign.pk)
            ],
        )


def _beyond(page, card) -> int:
    raised = sum(n.progress.collected.amount for n in page.needs)
    return max(0, card.progress.collected.amount - raised)


@api.get("/totals", response=list[TotalsOut], summary="The foundation's totals per currency, from the ledger")
def totals(request, lang: str | None = None):
    language = _language(lang)
    from zbor.campaigns.selectors import public_campaigns

    counts = {}
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


def last_modified() -> float | None:
    """The newest change that can alter an API answer: a campaign edit or a ledger movement."""
    from zbor.campaigns.models import Campaign

    stamps = [
        Campaign.objects.aggregate(m=Max("updated_at"))["m"],
        TransferGroup.objects.aggregate(m=Max("created_at"))["m"],
    ]
    stamps = [s for s in stamps if s]
    return max(stamps).timestamp() if stamps else None

