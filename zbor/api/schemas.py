"""What the public API returns. Only these fields exist; a test walks every response against them."""

from __future__ import annotations

import datetime

from ninja import Schema


class MoneyOut(Schema):
    amount: int
    currency: str
    formatted: str


class CampaignOut(Schema):
    slug: str
    url: str
    #: The language the title is actually in: ``requested_language`` or, when the campaign is
    #: not translated into it yet, the language the foundation wrote it in.
    language: str
    requested_language: str
    #: The title or summary is shown in another language than the one requested.
    is_fallback: bool
    summary_language: str
    title: str
    summary: str
    display_name: str
    name_is_pseudonym: bool
    category: str
    category_label: str
    status: str
    location: str
    published_at: datetime.datetime | None
    #: "personal" (helps one person, reaches its goal and closes) or "fund" (a programme fund:
    #: open-ended; its ``collected`` counts since 1 January and its ``goal`` is ``yearly_target``,
    #: zero when it has none).
    kind: str
    #: A programme fund's yearly target; null for a personal campaign or a fund without one.
    yearly_target: MoneyOut | None
    goal: MoneyOut
    collected: MoneyOut


class NeedOut(Schema):
    description: str
    language: str
    amount: MoneyOut
    collected: MoneyOut


class UpdateOut(Schema):
    date: datetime.date
    title: str
    language: str
    body_html: str


class SpentOut(Schema):
    date: datetime.date
    need: str
    amount: MoneyOut
    channel: str
    receipt_checked: bool


class CampaignDetailOut(CampaignOut):
    story_language: str
    story_is_translation: bool
    story_markdown: str
    story_html: str
    beyond_goal: MoneyOut
    #: What the foundation moved from this campaign to others and from others to this one:
    #: ``collected`` counts money where it is now (docs/ledger.md, "Moving money").
    moved_to_other_campaigns: MoneyOut
    moved_from_other_campaigns: MoneyOut
    needs: list[NeedOut]
    updates: list[UpdateOut]
    spending: list[SpentOut]


class CampaignPage(Schema):
    count: int
    page: int
    pages: int
    results: list[CampaignOut]


class TotalsOut(Schema):
    currency: str
    collected: MoneyOut
    paid_out: MoneyOut
    held: MoneyOut
    campaigns: int
