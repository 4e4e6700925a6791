"""Programme funds: open-ended campaigns ("Families of political prisoners", "Emergency
relocation") beside the personal campaigns that reach a goal and close.

A fund has no beneficiary and no end date, its needs are optional, it never becomes funded
(``services.mark_funded`` leaves it open) and it may have a yearly target: its page shows what
came in since 1 January against it. A personal campaign may name a fund (``monthly_fund``):
monthly gifts for it go there once it closes (``Campaign.monthly_target``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .choices import ACCEPTING_STATUSES, Kind, Status

if TYPE_CHECKING:
    from .models import Campaign


class FundMethods:
    """What a campaign answers about its kind (a mixin of ``Campaign``)."""

    @property
    def is_fund(self: Campaign) -> bool:  # type: ignore[misc]
        return self.kind == Kind.FUND

    def accepts_donations(self: Campaign) -> bool:  # type: ignore[misc]
        """Open for gifts: published or funded, and its end date (if any) not past."""
        return self.status in ACCEPTING_STATUSES and not self.has_ended()

    def monthly_target(self: Campaign) -> Campaign | None:  # type: ignore[misc]
        """Where a monthly gift chosen for this campaign goes now: the campaign itself while it
        takes donations, else the fund the foundation named for it while that takes them, else
        None (the gift has nowhere to go)."""
        if self.accepts_donations():
            return self
        fund = self.monthly_fund
        return fund if fund is not None and fund.accepts_donations() else None

    def clean(self: Campaign) -> None:  # type: ignore[misc]
        super().clean()
        problems = fund_problems(self)
        if problems:
            raise ValidationError(problems)


def fund_problems(campaign: Campaign) -> dict[str, list[str]]:
    """What is wrong with a campaign's kind, beneficiary, end date, yearly target and monthly
    fund, per field (empty when nothing is)."""
    problems: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        problems.setdefault(field, []).append(message)

    if campaign.kind == Kind.FUND:
        if campaign.ends_on is not None:
            add("ends_on", _("A programme fund has no end date: leave it empty."))
        if campaign.monthly_fund_id is not None:
            add("monthly_fund", _("A programme fund keeps its own monthly gifts: leave this empty."))
    else:
        if campaign.beneficiary_id is None:
            add("beneficiary", _("A personal campaign needs a beneficiary."))
        if campaign.yearly_target is not None:
            add("yearly_target", _("Only a programme fund has a yearly target."))
    fund = campaign.monthly_fund if campaign.monthly_fund_id is not None else None
    if fund is not None:
        if campaign.pk is not None and fund.pk in (campaign.pk, campaign.revision_of_id):
            add("monthly_fund", _("A campaign cannot name itself."))
        elif fund.kind != Kind.FUND or fund.status == Status.REVISION:
            add("monthly_fund", _("Choose a programme fund."))
        elif fund.currency != campaign.currency:
            add(
                "monthly_fund",
                _("The fund takes %(fund)s and this campaign %(campaign)s: choose a fund in the same currency.")
                % {"fund": fund.currency, "campaign": campaign.currency},
            )
    return problems
