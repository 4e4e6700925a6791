"""A campaign's progress towards its goal, as cards and pages show it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from zbor.money import Money, format_money


@dataclass(frozen=True)
class Progress:
    collected: Money
    #: Zero when there is none (a programme fund without a yearly target): no bar then.
    goal: Money
    language: str
    #: A programme fund's: what came in since 1 January, against its yearly target.
    this_year: bool = False

    # A template reads each a few times (the bar, the badge's alt text).
    @cached_property
    def collected_text(self) -> str:
        return format_money(self.collected, self.language)

    @cached_property
    def goal_text(self) -> str:
        return format_money(self.goal, self.language)

    def line(self) -> str:
        """The progress in words, in the active language (share cards, badges)."""
        amounts = {"collected": self.collected_text, "goal": self.goal_text}
        if not self.this_year:
            return _("Collected: %(collected)s of %(goal)s") % amounts
        if self.goal.amount:
            return _("This year: %(collected)s of %(goal)s") % amounts
        return _("This year: %(collected)s") % amounts

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

    @cached_property
    def bar_html(self) -> SafeString:
        """The bar, written here: three numbers through the template's localisation cost more
        than the rest of a card."""
        return format_html(
            '<progress max="{}" value="{}" aria-hidden="true">{}%</progress>',
            self.bar_max,
            self.bar_value,
            self.percent,
        )
