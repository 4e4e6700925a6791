"""The parts of a campaign's public page (``pages.CampaignPage``): its needs, what was paid
out for them, and its updates, each with its text chosen and its money formatted."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.safestring import SafeString

from .progress import Progress


@dataclass(frozen=True)
class NeedView:
    pk: int
    description: str
    language: str
    amount_text: str
    progress: Progress

    @property
    def is_open(self) -> bool:
        """It still lacks money: the page offers to give to it."""
        return self.progress.collected.amount < self.progress.goal.amount


@dataclass(frozen=True)
class SpentView:
    """One payment for a need, as the public sees it: no recipient, nothing about donors."""

    need: str
    need_language: str
    amount_text: str
    paid_on: datetime.date
    paid_on_text: str
    channel_label: str
    #: What the foundation checked: a receipt, or for a crypto transfer its transaction.
    checked_label: str


@dataclass(frozen=True)
class UpdateView:
    #: The live update's primary key (a revision's copy names the update it stands for): the
    #: page's anchor ``update-<pk>`` and the feed's entry id, unchanged by edits to the text.
    pk: int
    published_on: datetime.date
    #: The date written out per the page's locale (CLDR), e.g. "24 лістапада 2026 г.".
    published_on_text: str
    title: str
    body_html: SafeString
    language: str

    @property
    def anchor(self) -> str:
        return f"update-{self.pk}"
