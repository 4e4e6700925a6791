"""What shows on a campaign page that others give, without exposing anyone: words of support
with a first name and a coarse time, and the end date with the days left."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from zbor.donations.selectors import SupportMessage


@dataclass(frozen=True)
class SupportView:
    """Words of support as a page shows them: a first name or "Anonymous", the message, and
    when only as "this week", "this month" or "earlier" — never an amount, a date or a time."""

    name: str
    message: str
    when: str


@dataclass(frozen=True)
class Deadline:
    """A campaign's end date as the page says it."""

    ends_on: datetime.date
    ends_on_text: str
    #: Days left until the end date (0: today is the last day); below 0 once it has passed.
    days_left: int

    @property
    def has_ended(self) -> bool:
        return self.days_left < 0

    @property
    def days_left_text(self) -> str:
        if self.days_left == 0:
            return _("Closes today")
        return ngettext("Closes in %(days)s day", "Closes in %(days)s days", self.days_left) % {"days": self.days_left}


def _when(given_on: datetime.date | None, today: datetime.date) -> str:
    if given_on is None:
        return _("earlier")
    days = (today - given_on).days
    if days < 7:
        return _("this week")
    if days < 31:
        return _("this month")
    return _("earlier")


def support_views(messages: list[SupportMessage], today: datetime.date) -> list[SupportView]:
    """Only the first word of the name the donor typed: a full name is not shown even if typed."""
    anonymous = _("Anonymous")
    return [
        SupportView(name=(m.public_name.split() or [anonymous])[0], message=m.message, when=_when(m.given_on, today))
        for m in messages
    ]


def deadline(ends_on: datetime.date | None, today: datetime.date, ends_on_text: str) -> Deadline | None:
    """The end date ``ends_on`` (written out as ``ends_on_text``) as seen on ``today``."""
    if ends_on is None:
        return None
    return Deadline(ends_on=ends_on, ends_on_text=ends_on_text, days_left=(ends_on - today).days)
