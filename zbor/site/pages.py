"""What the public templates show, built from campaigns and their totals for one language.

Templates get plain dataclasses with text already chosen (translation or fallback) and money
already formatted, so a template never triggers a query or a formatting decision.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from zbor.campaigns import markdown
from zbor.campaigns.models import Campaign, Category, Note, Status
from zbor.campaigns.selectors import notes_by_key
from zbor.campaigns.translation import pick_translation
from zbor.donations.selectors import approved_messages, campaign_money
from zbor.money import Money, format_money


def language_name(code: str) -> str:
    return str(dict(settings.LANGUAGES).get(code, code))


@dataclass(frozen=True)
class Progress:
    collected: Money
    goal: Money
    language: str

    @property
    def collected_text(self) -> str:
        return format_money(self.collected, self.language)

    @property
    def goal_text(self) -> str:
        return format_money(self.goal, self.language)

    @property
    def percent(self) -> int:
        if self.goal.amount <= 0:
            return 0
        return min(100, self.collected.amount * 100 // self.goal.amount)

    @property
    def bar_max(self) -> int:
        return max(self.goal.amount, 1)

    @property
    def bar_value(self) -> int:
        return min(self.collected.amount, self.bar_max)


@dataclass(frozen=True)
class CampaignCard:
    slug: str
    url: str
    title: str
    summary: str
    display_name: str
    name_is_pseudonym: bool
    category: str
    category_label: str
    status: str
    status_label: str
    location: str
    cover_url: str
    cover_alt: str
    #: The language the title and summary are shown in (differs from the page's on fallback).
    language: str
    published_at: datetime.datetime | None
    progress: Progress


@dataclass(frozen=True)
class NeedView:
    description: str
    language: str
    amount_text: str
    progress: Progress


@dataclass(frozen=True)
class UpdateView:
    published_on: datetime.date
    title: str
    body_html: SafeString
    language: str


@dataclass(frozen=True)
class CampaignPage:
    card: CampaignCard
    story_html: SafeString
    story_language: str
    #: The name of the story's original language, in the page's language.
    original_language_name: str
    #: True when the story shown is a translation of the original.
    story_is_translation: bool
    #: True when the story is missing in the page's language and the original is shown.
    story_is_fallback: bool
    needs: list[NeedView]
    updates: list[UpdateView]
    #: Given beyond the goal, formatted; "" when nothing is.
    beyond_goal_text: str
    support_messages: list
    is_preview: bool = False


def status_label(status: str) -> str:
    # Looked up at call time so the label follows the active language.
    return {
        Status.PUBLISHED: _("Open"),
        Status.FUNDED: _("Funded"),
        Status.CLOSED: _("Closed"),
        Status.DRAFT: _("Draft"),
        Status.IN_REVIEW: _("In review"),
    }[status]


def campaign_url(campaign: Campaign) -> str:
    return reverse("site:campaign_detail", kwargs={"slug": campaign.slug})


def build_card(campaign: Campaign, language: str, *, collected: int, goal: int) -> CampaignCard:
    picked = pick_translation(campaign, language, campaign.original_language)
    content = picked.translation if picked else None
    name = pick_translation(campaign.beneficiary, language, campaign.original_language)
    return CampaignCard(
        slug=campaign.slug,
        url=campaign_url(campaign),
        title=content.title if content else campaign.slug,
        summary=content.summary if content else "",
        display_name=name.translation.display_name if name else "",
        name_is_pseudonym=campaign.beneficiary.name_is_pseudonym,
        category=campaign.category,
        category_label=str(Category(campaign.category).label),
        status=campaign.status,
        status_label=status_label(campaign.status),
        location=content.location if content else "",
        cover_url=campaign.cover.url if campaign.cover else "",
        cover_alt=content.cover_alt if content else "",
        language=picked.language if picked else language,
        published_at=campaign.published_at,
        progress=Progress(Money(collected, campaign.currency), Money(goal, campaign.currency), language),
    )


def build_cards(campaigns, language: str) -> list[CampaignCard]:
    """Cards for campaigns annotated with ``goal_total`` and ``collected_total``."""
    return [build_card(c, language, collected=c.collected_total, goal=c.goal_total) for c in campaigns]


class _NoteRenderer:
    """Renders the notes a page places, each with a unique id for its aria label."""

    def __init__(self, notes: dict[str, Note], language: str, fallback: str):
        self.notes = notes
        self.language = language
        self.fallback = fallback
        self.count = 0
        self.label = _("%(foundation)s note") % {"foundation": settings.ZBOR_FOUNDATION_NAME}

    def __call__(self, key: str) -> SafeString:
        note = self.notes.get(key)
        picked = pick_translation(note, self.language, self.fallback) if note else None
        if picked is None:
            return SafeString("")
        self.count += 1
        content = markdown.NoteContent(key=key, term=picked.translation.term, text=picked.translation.text)
        return markdown.render_note(content, label=self.label, element_id=f"note-{key}-{self.count}")


def build_page(campaign: Campaign, language: str, *, is_preview: bool = False) -> CampaignPage:
    """Everything the campaign page shows, in ``language`` with fallback to the original."""
    original = campaign.original_language
    needs = list(campaign.needs.all())
    money = campaign_money(campaign.pk, [n.pk for n in needs])
    goal = sum(n.amount for n in needs)
    card = build_card(campaign, language, collected=money.collected, goal=goal)

    story = pick_translation(campaign, language, original)
    updates = list(campaign.updates.all())
    texts = [story.translation.story if story else ""]
    picked_updates = [(u, pick_translation(u, language, original)) for u in updates]
    texts += [p.translation.body for _u, p in picked_updates if p]
    keys = {key for text in texts for key in markdown.note_keys(text)}
    render_note = _NoteRenderer(notes_by_key(keys), language, original)

    need_views = []
    for need in needs:
        picked = pick_translation(need, language, original)
        need_views.append(
            NeedView(
                description=picked.translation.description if picked else "",
                language=picked.language if picked else language,
                amount_text=format_money(Money(need.amount, campaign.currency), language),
                progress=Progress(
                    Money(money.raised_by_need[need.pk], campaign.currency), Money(need.amount, campaign.currency), language
                ),
            )
        )
    story_language = story.language if story else language
    return CampaignPage(
        card=card,
        story_html=markdown.render_markdown(texts[0], note=render_note),
        story_language=story_language,
        original_language_name=language_name(original),
        story_is_translation=story_language != original,
        story_is_fallback=bool(story and story.is_fallback),
        needs=need_views,
        updates=[
            UpdateView(
                published_on=u.published_on,
                title=p.translation.title,
                body_html=markdown.render_markdown(p.translation.body, note=render_note),
                language=p.language,
            )
            for u, p in picked_updates
            if p
        ],
        beyond_goal_text=format_money(Money(money.beyond_goal, campaign.currency), language) if money.beyond_goal > 0 else "",
        support_messages=approved_messages(campaign.pk),
        is_preview=is_preview,
    )
