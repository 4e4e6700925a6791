"""What the public templates show, built from campaigns and their totals for one language.

Templates get plain dataclasses with text already chosen (translation or fallback) and money
already formatted, so a template never triggers a query or a formatting decision.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from babel.dates import format_date
from django.conf import settings
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from zbor.campaigns import markdown
from zbor.campaigns.models import Campaign, Category, Kind, Status
from zbor.campaigns.selectors import (
    CampaignTexts,
    PublicNeed,
    campaign_texts,
    public_needs,
    update_translations,
)
from zbor.campaigns.translation import Picked, pick_from
from zbor.disbursements.models import Channel
from zbor.disbursements.selectors import moved_between_campaigns, paid_on, paid_payouts
from zbor.donations.selectors import campaign_money, support_and_counts
from zbor.money import Money, format_money

from .addresses import address
from .covers import CARD_SIZES, PAGE_SIZES, CoverPicture, cover_picture, picture_html
from .funds import card_progress, fund_total_text, funds_this_year
from .momentum import Deadline, SupportView, deadline, support_views
from .notes import NoteRenderer
from .parts import NeedView, SpentView, UpdateView
from .progress import Progress


def language_name(code: str) -> str:
    return str(dict(settings.LANGUAGES).get(code, code))


@dataclass(frozen=True)
class CampaignCard:
    """What a campaign card shows. Each ``*_language`` is the language that text is in: the
    page's, or the original's when it is not translated yet (templates mark it with ``lang``)."""

    slug: str
    url: str
    title: str
    title_language: str
    summary: str
    summary_language: str
    #: The title or summary is shown in another language than the page's.
    is_fallback: bool
    display_name: str
    name_language: str
    name_is_pseudonym: bool
    category: str
    category_label: str
    status: str
    status_label: str
    location: str
    location_language: str
    cover_url: str
    cover_name: str
    cover_alt: str
    published_at: datetime.datetime | None
    progress: Progress
    kind: str = Kind.PERSONAL

    @property
    def is_fund(self) -> bool:
        """A programme fund: open-ended, its progress counted per calendar year."""
        return self.kind == Kind.FUND

    @property
    def cover(self) -> CoverPicture | None:
        return cover_picture(self.cover_name) if self.cover_name else None

    # The cover as each place shows it: a card in the first row (loaded at once), a card
    # further down (loaded when scrolled to), the campaign page's.
    @property
    def cover_card_html(self) -> SafeString:
        return picture_html(self.cover_name, self.cover_alt, "card-cover", CARD_SIZES, False)

    @property
    def cover_card_lazy_html(self) -> SafeString:
        return picture_html(self.cover_name, self.cover_alt, "card-cover", CARD_SIZES, True)

    @property
    def cover_page_html(self) -> SafeString:
        return picture_html(self.cover_name, self.cover_alt, "cover", PAGE_SIZES, False, first=True)


@dataclass(frozen=True)
class CampaignPage:
    card: CampaignCard
    #: The story shown, as written (markdown), and rendered.
    story_text: str
    story_html: SafeString
    story_language: str
    #: The name of the story's original language, in the page's language.
    original_language_name: str
    #: True when the story shown is a translation of the original.
    story_is_translation: bool
    #: Something on the page (title, story, a need, an update) is shown in the original language.
    has_untranslated_parts: bool
    needs: list[NeedView]
    updates: list[UpdateView]
    #: Given beyond the goal (minor units), and formatted ("" when nothing is).
    beyond_goal: int
    beyond_goal_text: str
    support_messages: list[SupportView]
    spent: list[SpentView]
    #: Per need: raised and paid out, formatted (for the spending summary).
    spent_text: str
    #: What the foundation moved from this campaign to others, and from others to this one,
    #: formatted ("" when nothing): collected counts money where it is now
    #: (zbor/disbursements/moves.py), and these say why it differs from what donors gave here.
    moved_out: int = 0
    moved_in: int = 0
    moved_out_text: str = ""
    moved_in_text: str = ""
    #: Gifts received so far (a count that moves in steps: ``donor_count``).
    donor_count: int = 0
    #: Active monthly gifts (a count only, read at most every few minutes).
    monthly_supporters: int = 0
    #: A programme fund's total since it opened, formatted ("" for a personal campaign, whose
    #: progress shows it already).
    collected_text: str = ""
    #: The end date, when the campaign has one.
    deadline: Deadline | None = None
    is_preview: bool = False

    @property
    def monthly_supporters_text(self) -> str:
        return ngettext("%(count)s person gives monthly", "%(count)s people give monthly", self.monthly_supporters) % {
            "count": self.monthly_supporters
        }

    @property
    def donor_count_text(self) -> str:
        return ngettext("%(count)s donation so far", "%(count)s donations so far", self.donor_count) % {
            "count": self.donor_count
        }

    @property
    def accepting(self) -> bool:
        """The page offers to give: the campaign is open or funded, and its end date not past."""
        status = self.card.status
        return status in (Status.PUBLISHED, Status.FUNDED) and not (self.deadline and self.deadline.has_ended)


#: Each status's label, translated when it is shown (``status_label``).
STATUS_LABELS: dict[str, str] = {
    Status.PUBLISHED: gettext_noop("Open"),
    Status.FUNDED: gettext_noop("Funded"),
    Status.CLOSED: gettext_noop("Closed"),
    Status.DRAFT: gettext_noop("Draft"),
    Status.IN_REVIEW: gettext_noop("In review"),
    # Only staff see a withdrawn campaign, in the preview.
    Status.WITHDRAWN: gettext_noop("Withdrawn"),
    # Staff preview a revision before approving it; the public never sees one.
    Status.REVISION: gettext_noop("Revision"),
}


def status_label(status: str) -> str:
    """The status's label in the active language."""
    return _(STATUS_LABELS[status])


def campaign_url(campaign: Campaign) -> str:
    return address("site:campaign_detail", slug=campaign.slug)


def _text(translations, language: str, original: str, field: str) -> tuple[str, str, bool]:
    """(text, its language, shown in another language?) for one translated field."""
    picked = pick_from(translations, language, original, field=field)
    if picked is None:
        return "", language, False
    return getattr(picked.translation, field), picked.language, picked.is_fallback


def build_card(
    campaign: Campaign,
    texts: CampaignTexts,
    language: str,
    *,
    collected: int,
    goal: int,
    this_year: int | None = None,
) -> CampaignCard:
    """The card of ``campaign``, whose translations are ``texts`` (``campaign_texts``). A
    programme fund's progress is ``this_year`` (collected since 1 January) against its yearly
    target instead of ``collected`` against ``goal``."""
    original = campaign.original_language
    title, title_language, title_fallback = _text(texts.own, language, original, "title")
    summary, summary_language, summary_fallback = _text(texts.own, language, original, "summary")
    location, location_language, _fallback = _text(texts.own, language, original, "location")
    display_name, name_language, _fallback = _text(texts.name, language, original, "display_name")
    cover_alt, _lang, _fallback = _text(texts.own, language, original, "cover_alt")
    return CampaignCard(
        slug=campaign.slug,
        url=campaign_url(campaign),
        title=title or campaign.slug,
        title_language=title_language,
        summary=summary,
        summary_language=summary_language,
        is_fallback=title_fallback or summary_fallback,
        display_name=display_name,
        name_language=name_language,
        name_is_pseudonym=texts.name_is_pseudonym,
        category=campaign.category,
        category_label=str(Category(campaign.category).label),
        status=campaign.status,
        status_label=status_label(campaign.status),
        location=location,
        location_language=location_language,
        cover_url=campaign.cover.url if campaign.cover else "",
        cover_name=campaign.cover.name or "",
        cover_alt=cover_alt,
        published_at=campaign.published_at,
        progress=card_progress(campaign, language, collected=collected, goal=goal, this_year=this_year),
        kind=campaign.kind,
    )


def build_cards(campaigns, language: str) -> list[CampaignCard]:
    """Cards for campaigns annotated with ``goal_total`` and ``collected_total``."""
    campaigns = list(campaigns)
    texts = campaign_texts(campaigns)
    year = funds_this_year(campaigns)
    return [
        build_card(c, texts[c.pk], language, collected=c.collected_total, goal=c.goal_total, this_year=year.get(c.pk))
        for c in campaigns
    ]


@lru_cache(maxsize=1024)
def _long_date(day: datetime.date, language: str) -> str:
    """``day`` written out per the locale (CLDR): a date and a language always read the same."""
    return format_date(day, format="long", locale=language)


def _money_text(amount: int, currency: str, language: str) -> str:
    return format_money(Money(amount, currency), language)


def _need_views(
    needs: list[PublicNeed], raised: dict[int, int], currency: str, language: str, original: str
) -> list[NeedView]:
    views = []
    for need in needs:
        picked = pick_from(need.translations, language, original, field="description")
        views.append(
            NeedView(
                pk=need.pk,
                description=picked.translation.description if picked else "",
                language=picked.language if picked else language,
                amount_text=_money_text(need.amount, currency, language),
                progress=Progress(Money(raised[need.pk], currency), Money(need.amount, currency), language),
            )
        )
    return views


def _update_views(updates: list[tuple[Any, Picked]], language: str, render_note: NoteRenderer) -> list[UpdateView]:
    return [
        UpdateView(
            # A revision's preview shows copies: their anchor is the live update's.
            pk=getattr(update, "replaces_id", None) or update.pk,
            published_on=update.published_on,
            published_on_text=_long_date(update.published_on, language),
            title=picked.translation.title or "",
            body_html=markdown.render_markdown(picked.translation.body, note=render_note),
            language=picked.language,
        )
        for update, picked in updates
    ]


def _spent_views(payouts: list, need_text: dict[int, tuple[str, str]], language: str) -> list[SpentView]:
    """The payouts for needs the page shows (``need_text``: their description and its language)."""
    return [
        SpentView(
            need=need_text[payout.need_id][0],
            need_language=need_text[payout.need_id][1],
            amount_text=_money_text(payout.amount, payout.currency, language),
            paid_on=paid_on(payout),
            paid_on_text=_long_date(paid_on(payout), language),
            channel_label=str(Channel(payout.channel).label),
            checked_label=_("Transaction checked by the foundation")
            if payout.channel == Channel.CRYPTO
            else _("Receipt checked by the foundation"),
        )
        for payout in payouts
        if payout.need_id in need_text
    ]


def build_page(campaign: Campaign, language: str, *, is_preview: bool = False) -> CampaignPage:
    """Everything the campaign page shows, in ``language`` with fallback to the original."""
    original, currency = campaign.original_language, campaign.currency
    needs = public_needs(campaign.pk)
    money = campaign_money(campaign.pk, [n.pk for n in needs])
    texts = campaign_texts([campaign], story=True)[campaign.pk]
    card = build_card(
        campaign,
        texts,
        language,
        collected=money.collected,
        goal=sum(n.amount for n in needs),
        this_year=funds_this_year([campaign]).get(campaign.pk),
    )
    story = pick_from(texts.own, language, original, field="story")
    story_text = story.translation.story if story else ""
    story_language = story.language if story else language
    # Updates not written in any language yet are not shown.
    updates = [
        (update, picked)
        for update, translations in update_translations(campaign.pk)
        if (picked := pick_from(translations, language, original, field="body"))
    ]
    render_note = NoteRenderer.for_texts([story_text, *(p.translation.body for _u, p in updates)], language, original)
    need_views = _need_views(needs, money.raised_by_need, currency, language, original)
    payouts = paid_payouts(campaign.pk)
    moved_out, moved_in = moved_between_campaigns(campaign.pk)
    today = timezone.localdate()
    words, donors, monthly = support_and_counts(campaign.pk)
    return CampaignPage(
        card=card,
        story_text=story_text,
        # The story first: its notes are numbered before the updates'.
        story_html=markdown.render_markdown(story_text, note=render_note),
        story_language=story_language,
        original_language_name=language_name(original),
        story_is_translation=story_language != original,
        has_untranslated_parts=card.is_fallback
        or bool(story and story.is_fallback)
        or any(view.language != language for view in need_views)
        or any(picked.is_fallback for _u, picked in updates),
        needs=need_views,
        updates=_update_views(updates, language, render_note),
        beyond_goal=money.beyond_goal,
        beyond_goal_text=_money_text(money.beyond_goal, currency, language) if money.beyond_goal > 0 else "",
        support_messages=support_views(words, today),
        spent=_spent_views(
            payouts, {n.pk: (v.description, v.language) for n, v in zip(needs, need_views, strict=True)}, language
        ),
        spent_text=_money_text(sum(p.amount for p in payouts), currency, language),
        moved_out=moved_out,
        moved_in=moved_in,
        moved_out_text=_money_text(moved_out, currency, language) if moved_out else "",
        moved_in_text=_money_text(moved_in, currency, language) if moved_in else "",
        donor_count=donors,
        monthly_supporters=monthly,
        collected_text=fund_total_text(campaign, money.collected, language),
        deadline=deadline(campaign.ends_on, today, _long_date(campaign.ends_on, language) if campaign.ends_on else ""),
        is_preview=is_preview,
    )
