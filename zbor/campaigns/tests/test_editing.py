"""The rules of a staff edit to a campaign live in the service, not in the admin."""

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile

from tests import factories
from zbor.campaigns import services
from zbor.campaigns.models import CampaignEditor, Status

pytestmark = pytest.mark.django_db


def test_a_campaign_in_review_or_live_is_not_saved_in_place():
    editor = factories.role_user("editor")
    for status in (Status.IN_REVIEW, Status.PUBLISHED):
        campaign = factories.campaign(status=status)
        campaign.location = "elsewhere"
        with pytest.raises(PermissionDenied):
            services.save_campaign(campaign, by=editor, edited=True)


def test_whoever_edits_a_draft_may_no_longer_approve_it_but_a_save_without_change_does_not_count():
    first, second = factories.role_user("editor"), factories.role_user("editor")
    campaign = factories.campaign(status=Status.DRAFT)
    services.save_campaign(campaign, by=first, edited=False)
    services.save_campaign(campaign, by=second, edited=True)
    assert list(CampaignEditor.objects.filter(campaign=campaign).values_list("user", flat=True)) == [second.pk]


def test_a_replaced_cover_is_deleted_once_the_change_commits(django_capture_on_commit_callbacks):
    editor = factories.role_user("editor")
    campaign = factories.campaign(status=Status.DRAFT)
    campaign.cover.save("old.jpg", ContentFile(b"old"), save=True)
    old = campaign.cover.name
    storage = campaign.cover.storage
    campaign.cover = ""
    with django_capture_on_commit_callbacks(execute=True):
        services.save_campaign(campaign, by=editor, edited=True)
    assert not storage.exists(old)
