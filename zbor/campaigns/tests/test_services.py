"""Campaign life cycle: only allowed steps, and nothing goes public unfinished."""

import pytest

from tests import factories
from zbor.campaigns import services
from zbor.campaigns.exceptions import CampaignNotReady, TransitionNotAllowed
from zbor.campaigns.models import Campaign, Status

pytestmark = pytest.mark.django_db


def test_publishing_sets_the_date_once():
    campaign = factories.campaign(status=Status.IN_REVIEW)
    services.publish_campaign(campaign, by=None)
    first = campaign.published_at
    assert campaign.status == Status.PUBLISHED and first is not None
    services.mark_funded(campaign, by=None)
    services.publish_campaign(campaign, by=None)
    assert campaign.published_at == first


def test_a_draft_cannot_be_published_without_review():
    campaign = factories.campaign(status=Status.DRAFT)
    with pytest.raises(TransitionNotAllowed):
        services.publish_campaign(campaign, by=None)
    assert Campaign.objects.get(pk=campaign.pk).status == Status.DRAFT


def test_a_closed_campaign_stays_closed():
    campaign = factories.campaign(status=Status.CLOSED)
    assert campaign.closed_at is not None
    for action in (services.publish_campaign, services.mark_funded, services.submit_for_review):
        with pytest.raises(TransitionNotAllowed):
            action(campaign, by=None)


def test_review_needs_title_story_needs_and_known_notes():
    campaign = factories.campaign(status=Status.DRAFT, needs=(), story="Text\n\n[[note:nowhere]]")
    with pytest.raises(CampaignNotReady) as caught:
        services.submit_for_review(campaign, by=None)
    problems = " ".join(caught.value.problems)
    assert "at least one need" in problems
    assert "no foundation note with the key “nowhere”" in problems
    assert Campaign.objects.get(pk=campaign.pk).status == Status.DRAFT


def test_a_story_that_places_an_existing_note_is_ready():
    factories.note("shizo")
    campaign = factories.campaign(status=Status.DRAFT, story="Text\n\n[[note:shizo]]")
    assert services.publication_problems(campaign) == []
