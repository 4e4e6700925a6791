"""Programme funds (issue 18): open-ended campaigns with no beneficiary, no end date and an
optional yearly target; where a monthly gift goes (``Campaign.monthly_target``)."""

import datetime
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests import factories
from zbor.campaigns import revisions, services
from zbor.campaigns.exceptions import TransitionNotAllowed
from zbor.campaigns.models import Campaign, Kind, Status
from zbor.donations.services import record_demo_donation

pytestmark = pytest.mark.django_db


def test_a_fund_publishes_without_a_beneficiary_or_needs():
    fund = factories.fund(slug="relocation")
    assert fund.status == Status.PUBLISHED and fund.beneficiary is None and not fund.needs.exists()
    assert services.publication_problems(fund) == []


def test_a_personal_campaign_still_needs_a_beneficiary_and_a_need():
    campaign = Campaign.objects.create(slug="nobody", category="family")
    campaign.create_translation("en", title="T", summary="S", story="Story.")
    problems = services.publication_problems(campaign)
    assert "A personal campaign needs a beneficiary." in problems
    assert "The campaign needs at least one need with an amount." in problems


def test_a_fund_never_becomes_funded():
    fund = factories.fund(needs=(10000,))
    record_demo_donation(fund, amount=25000)  # more than its needs: a campaign would be funded
    fund.refresh_from_db()
    assert fund.status == Status.PUBLISHED
    with pytest.raises(TransitionNotAllowed):
        services.mark_funded(fund, by=factories.staff_user())
    fund.refresh_from_db()
    assert fund.status == Status.PUBLISHED
    # The personal campaign beside it still is, by itself.
    campaign = factories.campaign(needs=(10000,))
    record_demo_donation(campaign, amount=10000)
    campaign.refresh_from_db()
    assert campaign.status == Status.FUNDED


@pytest.mark.parametrize(
    ("status", "goes_to"),
    [
        (Status.DRAFT, "fund"),
        (Status.IN_REVIEW, "fund"),
        (Status.PUBLISHED, "self"),
        (Status.FUNDED, "self"),
        (Status.CLOSED, "fund"),
        (Status.WITHDRAWN, "fund"),
    ],
)
def test_monthly_target_in_every_status(status, goes_to):
    fund = factories.fund()
    campaign = factories.campaign(status=Status.PUBLISHED)
    campaign.monthly_fund = fund
    campaign.save()
    Campaign.objects.filter(pk=campaign.pk).update(status=status)
    campaign.refresh_from_db()
    assert campaign.monthly_target() == (campaign if goes_to == "self" else fund)
    # The fund no longer takes gifts: nowhere to go, unless the campaign itself still does.
    Campaign.objects.filter(pk=fund.pk).update(status=Status.CLOSED)
    campaign.refresh_from_db()
    assert campaign.monthly_target() == (campaign if goes_to == "self" else None)


def test_monthly_target_of_a_fund_and_of_a_campaign_without_one():
    fund = factories.fund()
    assert fund.monthly_target() == fund
    campaign = factories.campaign(status=Status.CLOSED)
    assert campaign.monthly_target() is None


def test_monthly_target_after_the_end_date_is_the_fund():
    fund = factories.fund()
    campaign = factories.campaign()
    campaign.monthly_fund = fund
    campaign.ends_on = timezone.localdate() - datetime.timedelta(days=1)
    assert campaign.monthly_target() == fund


def _problems(campaign) -> dict:
    with pytest.raises(ValidationError) as caught:
        campaign.full_clean()
    return caught.value.message_dict


def test_monthly_fund_must_be_a_fund_in_the_same_currency_and_not_itself():
    campaign = factories.campaign(status=Status.DRAFT)
    campaign.monthly_fund = factories.campaign(slug="another-personal")
    assert "Choose a programme fund." in _problems(campaign)["monthly_fund"]
    campaign.monthly_fund = factories.fund(currency="PLN")
    assert "choose a fund in the same currency" in _problems(campaign)["monthly_fund"][0]
    fund = factories.fund(status=Status.DRAFT)
    fund.monthly_fund = fund
    assert "monthly_fund" in _problems(fund)
    campaign.monthly_fund = factories.fund()
    campaign.full_clean()  # a fund in EUR: fine


def test_a_fund_names_no_fund_has_no_end_date_and_only_funds_have_a_yearly_target():
    fund = factories.fund(status=Status.DRAFT)
    fund.ends_on = datetime.date(2030, 1, 1)
    fund.monthly_fund = factories.fund()
    problems = _problems(fund)
    assert problems["ends_on"] == ["A programme fund has no end date: leave it empty."]
    assert problems["monthly_fund"] == ["A programme fund keeps its own monthly gifts: leave this empty."]
    campaign = factories.campaign(status=Status.DRAFT)
    campaign.yearly_target = 100000
    assert _problems(campaign)["yearly_target"] == ["Only a programme fund has a yearly target."]


def test_the_fund_choices_are_funds_only():
    fund = factories.fund(slug="the-fund")
    factories.campaign(slug="personal")
    from zbor.campaigns.forms import CampaignAdminForm

    assert list(CampaignAdminForm().fields["monthly_fund"].queryset) == [fund]


def test_a_revision_carries_kind_target_fund_and_required_languages():
    editor, reviewer = factories.role_user("editor"), factories.role_user("editor")
    fund, other = factories.fund(), factories.fund(slug="other-fund")
    campaign = factories.campaign()
    Campaign.objects.filter(pk=campaign.pk).update(monthly_fund=fund, required_languages=["en"])
    campaign.refresh_from_db()
    revision = revisions.start_revision(campaign, by=editor)
    assert (revision.kind, revision.monthly_fund, revision.required_languages) == (Kind.PERSONAL, fund, ["en"])
    revision.monthly_fund, revision.required_languages = other, []
    revision.save()
    assert "+monthly gifts after closing go to: other-fund" in revisions.revision_diff(revision)
    revisions.approve_revision(revision, by=reviewer, seen=revisions.revision_digest(revision))
    campaign.refresh_from_db()
    assert campaign.monthly_fund == other and campaign.required_languages == []
    # A fund's yearly target the same way.
    revision = revisions.start_revision(fund, by=editor)
    assert revision.kind == Kind.FUND and revision.beneficiary is None
    revision.yearly_target = 500000
    revision.save()
    revisions.approve_revision(revision, by=reviewer, seen=revisions.revision_digest(revision))
    fund.refresh_from_db()
    assert fund.yearly_target == 500000


def test_this_year_counts_from_the_first_of_january():
    fund = factories.fund(slug="families", yearly_target=1200000)
    now = timezone.now()
    with mock.patch.object(timezone, "now", return_value=now.replace(year=now.year - 1, month=12, day=31)):
        record_demo_donation(fund, amount=7000)  # last year: not this year's
    record_demo_donation(fund, amount=2500)
    from zbor.public.funds import funds_this_year

    assert funds_this_year([fund]) == {fund.pk: 2500}
