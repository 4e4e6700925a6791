"""Campaign life cycle: only allowed steps, four-eyes publication, nothing public unfinished."""

import pytest
from django.core.exceptions import PermissionDenied

from tests import factories
from zbor.accounts.models import AuditEvent
from zbor.campaigns import services
from zbor.campaigns.exceptions import CampaignNotReady, FourEyesViolation, TransitionNotAllowed
from zbor.campaigns.models import Campaign, Status

pytestmark = pytest.mark.django_db


def test_a_second_person_publishes_and_the_date_is_set_once():
    editor, reviewer = factories.role_user("editor"), factories.role_user("editor")
    campaign = factories.campaign(status=Status.DRAFT)
    services.submit_for_review(campaign, by=editor)
    assert services.approve_publication(campaign, by=reviewer, no_identifying_details=True)
    first = campaign.published_at
    assert campaign.status == Status.PUBLISHED and first is not None
    services.mark_funded(campaign, by=editor)
    services.reopen_campaign(campaign, by=editor)
    assert campaign.published_at == first
    assert list(
        AuditEvent.objects.filter(object_id=str(campaign.pk)).values_list("action", flat=True).order_by("pk")
    ) == [
        "campaign.submit",
        "campaign.approve",
        "campaign.publish",
        "campaign.funded",
        "campaign.reopen",
    ]


def test_nobody_approves_their_own_campaign():
    editor = factories.role_user("editor")
    campaign = factories.campaign(status=Status.DRAFT)
    services.submit_for_review(campaign, by=editor)
    with pytest.raises(FourEyesViolation):
        services.approve_publication(campaign, by=editor, no_identifying_details=True)
    assert Campaign.objects.get(pk=campaign.pk).status == Status.IN_REVIEW


def test_approving_twice_counts_once():
    editor, reviewer = factories.role_user("editor"), factories.role_user("editor")
    campaign = factories.campaign(status=Status.DRAFT, beneficiary_at_risk=True)
    services.submit_for_review(campaign, by=editor)
    assert not services.approve_publication(campaign, by=reviewer, no_identifying_details=True)
    with pytest.raises(FourEyesViolation):
        services.approve_publication(campaign, by=reviewer, no_identifying_details=True)
    assert Campaign.objects.get(pk=campaign.pk).status == Status.IN_REVIEW


def test_a_beneficiary_at_risk_needs_an_admins_approval_as_well():
    editor, reviewer, admin = (
        factories.role_user("editor"),
        factories.role_user("editor"),
        factories.role_user("admin"),
    )
    campaign = factories.campaign(status=Status.DRAFT, beneficiary_at_risk=True)
    services.submit_for_review(campaign, by=editor)
    assert not services.approve_publication(campaign, by=reviewer, no_identifying_details=True)
    assert Campaign.objects.get(pk=campaign.pk).status == Status.IN_REVIEW
    assert services.approve_publication(campaign, by=admin, no_identifying_details=True)
    assert Campaign.objects.get(pk=campaign.pk).status == Status.PUBLISHED


def test_finance_cannot_publish():
    editor, finance = factories.role_user("editor"), factories.role_user("finance")
    campaign = factories.campaign(status=Status.DRAFT)
    services.submit_for_review(campaign, by=editor)
    with pytest.raises(PermissionDenied):
        services.approve_publication(campaign, by=finance, no_identifying_details=True)


def test_the_approver_must_confirm_nothing_identifies_the_person():
    editor, reviewer = factories.role_user("editor"), factories.role_user("editor")
    campaign = factories.campaign(status=Status.DRAFT)
    services.submit_for_review(campaign, by=editor)
    with pytest.raises(CampaignNotReady):
        services.approve_publication(campaign, by=reviewer, no_identifying_details=False)


def test_a_draft_cannot_be_approved_without_review():
    campaign = factories.campaign(status=Status.DRAFT)
    with pytest.raises(TransitionNotAllowed):
        services.approve_publication(campaign, by=factories.role_user("editor"), no_identifying_details=True)


def test_a_closed_campaign_stays_closed():
    campaign = factories.campaign(status=Status.CLOSED)
    assert campaign.closed_at is not None
    for action in (services.mark_funded, services.submit_for_review, services.reopen_campaign):
        with pytest.raises(TransitionNotAllowed):
            action(campaign, by=None)


def test_review_needs_title_story_needs_consent_and_known_notes():
    campaign = factories.campaign(status=Status.DRAFT, needs=(), story="Text\n\n[[note:nowhere]]")
    campaign.beneficiary.consent_recorded = False
    campaign.beneficiary.save()
    with pytest.raises(CampaignNotReady) as caught:
        services.submit_for_review(campaign, by=None)
    problems = " ".join(caught.value.problems)
    assert "at least one need" in problems
    assert "no foundation note with the key “nowhere”" in problems
    assert "consent" in problems
    assert Campaign.objects.get(pk=campaign.pk).status == Status.DRAFT


def test_a_story_that_places_an_existing_note_is_ready():
    factories.note("shizo")
    campaign = factories.campaign(status=Status.DRAFT, story="Text\n\n[[note:shizo]]")
    assert services.publication_problems(campaign) == []


def test_emergency_unpublish_takes_it_offline_and_can_purge(client):
    from zbor.campaigns.private import read_private, write_private

    admin, editor = factories.role_user("admin"), factories.role_user("editor")
    campaign = factories.campaign(slug="gone")
    write_private(campaign.beneficiary, by=editor, real_name="Hanna Real")
    with pytest.raises(PermissionDenied):
        services.emergency_unpublish(campaign, by=editor)
    services.emergency_unpublish(campaign, by=admin, purge_private=True)
    assert client.get("/en/campaigns/gone/").status_code == 404
    assert "gone" not in client.get("/en/campaigns/").content.decode()
    assert read_private(campaign.beneficiary, by=editor).real_name == ""


def _complete_in(campaign, language, **fields):
    text = {"title": "Заголовок", "summary": "Кратко", "story": "История", **fields}
    campaign.create_translation(language, **text)
    for need in campaign.needs.all():
        need.create_translation(language, description="Потребность")


def test_missing_languages_names_every_language_the_campaign_is_not_complete_in():
    campaign = factories.campaign(status=Status.DRAFT, needs=(1000, 2000))
    assert services.missing_languages(campaign) == ["ru", "be", "pl"]
    _complete_in(campaign, "ru")
    assert services.missing_languages(campaign) == ["be", "pl"]
    # A title alone is not a translation: the needs are missing in Belarusian.
    campaign.create_translation("be", title="Загаловак", summary="Коратка", story="Гісторыя")
    assert services.missing_languages(campaign) == ["be", "pl"]


def test_a_required_language_must_be_complete_before_review_with_a_clear_message():
    editor = factories.role_user("editor")
    campaign = factories.campaign(status=Status.DRAFT, needs=(1000,))
    campaign.required_languages = ["ru"]
    campaign.save()
    with pytest.raises(CampaignNotReady) as refused:
        services.submit_for_review(campaign, by=editor)
    assert "must be complete in Russian before review" in str(refused.value)
    campaign.refresh_from_db()
    assert campaign.status == Status.DRAFT
    _complete_in(campaign, "ru")
    services.submit_for_review(campaign, by=editor)
    assert campaign.status == Status.IN_REVIEW
