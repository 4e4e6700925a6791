"""Four-eyes that one person cannot walk around (issue 14): every change a public page shows of
a live campaign is staged and goes live only on the approval of someone who did not make it; a
live campaign stays on the site while its changes wait."""

import pytest
from django.test import Client
from django.urls import reverse

from tests import factories
from zbor.campaigns import revisions, services
from zbor.campaigns.exceptions import FourEyesViolation
from zbor.campaigns.models import Campaign, StagedText, Status

pytestmark = pytest.mark.django_db


def _public(slug: str) -> str:
    visitor = Client()
    page = visitor.get(f"/en/campaigns/{slug}/")
    assert page.status_code == 200
    api = visitor.get(f"/api/v1/campaigns/{slug}?lang=en")
    assert api.status_code == 200
    return page.content.decode() + api.content.decode()


def _login(client, user):
    client.force_login(user)
    return client


def _beneficiary_form(beneficiary, display_name: str) -> dict:
    return {
        "reference": beneficiary.reference,
        "display_name": display_name,
        "name_is_pseudonym": "on",
        "consent_recorded": "on",
        "real_name": "",
        "contacts": "",
        "verification_notes": "",
        "new_document_label": "",
    }


def test_a_display_name_change_waits_for_a_second_person(client):
    campaign = factories.campaign(slug="boots")
    beneficiary = campaign.beneficiary
    editor = factories.role_user("editor")
    _login(client, editor)
    url = reverse("admin:campaigns_beneficiary_change", args=[beneficiary.pk]) + "?language=en"
    response = client.post(url, _beneficiary_form(beneficiary, "Marina Newname"))
    assert response.status_code == 302
    assert "Marina Newname" not in _public("boots")
    assert "Anna" in _public("boots")
    staged = StagedText.objects.get(beneficiary=beneficiary)
    with pytest.raises(FourEyesViolation):
        revisions.approve_staged(staged, by=editor)
    assert "Marina Newname" not in _public("boots")
    reviewer = factories.role_user("editor")
    _login(client, reviewer)
    listing = client.get(reverse("admin:campaigns_stagedtext_changelist"))
    assert listing.status_code == 200 and "+display_name: Marina Newname" in listing.content.decode()
    response = client.post(
        reverse("admin:campaigns_stagedtext_changelist"), {"action": "approve", "_selected_action": [str(staged.pk)]}
    )
    assert response.status_code == 302
    assert "Marina Newname" in _public("boots")
    assert not StagedText.objects.exists()


def test_a_shared_note_change_waits_for_a_second_person(client):
    note = factories.note("shizo")
    factories.campaign(slug="cell", story="Story.\n\n[[note:shizo]]")
    editor = factories.role_user("editor")
    _login(client, editor)
    url = reverse("admin:campaigns_note_change", args=[note.pk]) + "?language=en"
    response = client.post(url, {"term": "SHIZO", "text": "Rewritten by one person."})
    assert response.status_code == 302
    assert "Rewritten by one person." not in _public("cell")
    assert "A punitive isolation cell." in _public("cell")
    staged = StagedText.objects.get(note=note)
    with pytest.raises(FourEyesViolation):
        revisions.approve_staged(staged, by=editor)
    revisions.approve_staged(staged, by=factories.role_user("editor"))
    assert "Rewritten by one person." in _public("cell")


def test_a_second_edit_replaces_the_proposal_and_keeps_both_editors():
    note = factories.note("shizo")
    a, b = factories.role_user("editor"), factories.role_user("editor")
    first = revisions.stage_text(note, "en", {"term": "SHIZO", "text": "B's text"}, by=b)
    second = revisions.stage_text(note, "en", {"term": "SHIZO", "text": "A's text"}, by=a)
    assert not StagedText.objects.filter(pk=first.pk).exists()
    with pytest.raises(revisions.TransitionNotAllowed):
        revisions.approve_staged(first, by=factories.role_user("editor"))  # approved what they saw: gone
    for person in (a, b):
        with pytest.raises(FourEyesViolation):
            revisions.approve_staged(second, by=person)


def _update_form(campaign, title: str, body: str) -> dict:
    return {"campaign": str(campaign.pk), "published_on": "2026-01-02", "title": title, "body": body}


def test_an_editor_who_edits_during_review_cannot_approve(client):
    campaign = factories.campaign(slug="appeal")
    update = factories.update(campaign, title="Original news", body="Original text.")
    editor_a, editor_b = factories.role_user("editor", "editor-a"), factories.role_user("editor", "editor-b")
    url = reverse("admin:campaigns_update_change", args=[update.pk]) + "?language=en"
    _login(client, editor_b)
    client.post(url, _update_form(campaign, "News by B", "B's text."))
    _login(client, editor_a)
    client.post(url, _update_form(campaign, "News by A", "Text nobody else has seen."))
    # A now tries every way to approve: the old review action, and the revision's review page.
    client.post(
        reverse("admin:campaigns_campaign_changelist"), {"action": "approve", "_selected_action": [str(campaign.pk)]}
    )
    revision = Campaign.objects.filter(status="revision").first()
    seen = ""
    if revision is not None:
        review_url = reverse("admin:campaigns_campaign_review", args=[revision.pk])
        seen = client.get(review_url).context["seen"]
        client.post(review_url, {"do": "approve", "seen": seen})
    assert "Text nobody else has seen." not in _public("appeal")
    assert "Original text." in _public("appeal")
    assert revision is not None
    with pytest.raises(FourEyesViolation):
        revisions.approve_revision(revision, by=editor_a, seen=seen)
    with pytest.raises(FourEyesViolation):
        revisions.approve_revision(revision, by=editor_b, seen=seen)
    revisions.approve_revision(revision, by=factories.role_user("editor"), seen=seen)
    assert "Text nobody else has seen." in _public("appeal")


def test_an_approval_names_the_version_it_saw():
    campaign = factories.campaign(slug="boots")
    editor, reviewer = factories.role_user("editor"), factories.role_user("editor")
    revision = revisions.start_revision(campaign, by=editor)
    seen = revisions.revision_digest(revision)
    factories.update(revision, title="Late change", body="Added after the reviewer looked.")
    services.record_editor(revision, editor)
    with pytest.raises(FourEyesViolation):
        revisions.approve_revision(revision, by=reviewer, seen=seen)
    assert "Added after the reviewer looked." not in _public("boots")


def test_adding_an_update_keeps_the_campaign_online(client):
    campaign = factories.campaign(slug="winter")
    editor = factories.role_user("editor")
    _login(client, editor)
    response = client.post(
        reverse("admin:campaigns_update_add") + "?language=en", _update_form(campaign, "Fresh news", "Boots bought.")
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == Status.PUBLISHED
    assert "Boots bought." not in _public("winter")  # online, with the approved content
    revision = Campaign.objects.get(revision_of=campaign)
    assert revision.updates.count() == 1 and campaign.updates.count() == 0
    revisions.approve_revision(revision, by=factories.role_user("editor"), seen=revisions.revision_digest(revision))
    assert "Boots bought." in _public("winter")


def test_revisions_never_reach_public_lists():
    campaign = factories.campaign(slug="boots")
    revision = revisions.start_revision(campaign, by=factories.role_user("editor"))
    visitor = Client()
    slugs = [c["slug"] for c in visitor.get("/api/v1/campaigns").json()["results"]]
    assert slugs == ["boots"]
    assert visitor.get(f"/en/campaigns/{revision.slug}/").status_code == 404
    assert visitor.get(f"/api/v1/campaigns/{revision.slug}").status_code == 404
    assert revision.slug not in visitor.get("/sitemap.xml").content.decode()
    assert revision.slug not in visitor.get("/en/campaigns/").content.decode()


def test_emergency_unpublish_stays_one_person():
    from zbor.campaigns import services

    campaign = factories.campaign(slug="boots")
    revisions.start_revision(campaign, by=factories.role_user("editor"))
    services.emergency_unpublish(campaign, by=factories.role_user("admin"))
    assert Client().get("/en/campaigns/boots/").status_code == 404


@pytest.mark.parametrize("role", [None, "finance"])
def test_the_review_page_refuses_other_roles_before_looking_anything_up(client, role):
    campaign = factories.campaign(slug="boots")
    revision = revisions.start_revision(campaign, by=factories.role_user("editor"))
    user = factories.role_user(role) if role else factories.staff_user("plain", superuser=False)
    _login(client, user)
    for pk in (revision.pk, 999999):
        assert client.get(reverse("admin:campaigns_campaign_review", args=[pk])).status_code == 403
        assert client.post(reverse("admin:campaigns_campaign_review", args=[pk]), {"do": "discard"}).status_code == 403
    assert Campaign.objects.filter(pk=revision.pk).exists()


def test_a_display_name_in_a_new_language_is_staged_without_an_empty_one(client):
    campaign = factories.campaign(slug="boots")
    beneficiary = campaign.beneficiary
    _login(client, factories.role_user("editor"))
    url = reverse("admin:campaigns_beneficiary_change", args=[beneficiary.pk]) + "?language=pl"
    assert client.post(url, _beneficiary_form(beneficiary, "Imię Nowe")).status_code == 302
    assert not beneficiary.translations.filter(language_code="pl").exists()
    assert Client().get("/pl/campaigns/boots/").content.decode().count("Anna") >= 1
    staged = StagedText.objects.get(beneficiary=beneficiary, language_code="pl")
    revisions.approve_staged(staged, by=factories.role_user("editor"))
    assert "Imię Nowe" in Client().get("/pl/campaigns/boots/").content.decode()


def test_category_and_need_amounts_change_only_on_approval():
    campaign = factories.campaign(slug="boots", category="relocation")
    editor = factories.role_user("editor")
    revision = revisions.start_revision(campaign, by=editor)
    revision.category = "legal_aid"
    revision.save()
    need = revision.needs.order_by("position").first()
    need.amount = 123400
    need.save()
    services.record_editor(revision, editor)
    api = Client().get("/api/v1/campaigns?category=legal_aid").json()
    assert api["results"] == []
    live_need = campaign.needs.order_by("position").first()
    assert live_need.amount == 50000
    revisions.approve_revision(revision, by=factories.role_user("editor"), seen=revisions.revision_digest(revision))
    assert [c["slug"] for c in Client().get("/api/v1/campaigns?category=legal_aid").json()["results"]] == ["boots"]
    live_need.refresh_from_db()
    assert live_need.amount == 123400 and campaign.needs.count() == 3  # the same rows: donations keep their need


def test_a_revision_for_someone_at_risk_needs_an_admin():
    campaign = factories.campaign(slug="boots")
    campaign.beneficiary.at_risk = True  # the danger began after publication
    campaign.beneficiary.save()
    editor = factories.role_user("editor")
    revision = revisions.start_revision(campaign, by=editor)
    services.record_editor(revision, editor)
    seen = revisions.revision_digest(revision)
    with pytest.raises(FourEyesViolation):
        revisions.approve_revision(revision, by=factories.role_user("editor"), seen=seen)
    revisions.approve_revision(revision, by=factories.role_user("admin"), seen=seen)


def test_suggested_amounts_and_the_end_date_change_only_on_approval():
    import datetime

    campaign = factories.campaign(slug="boots")
    editor = factories.role_user("editor")
    revision = revisions.start_revision(campaign, by=editor)
    revision.suggested_amounts, revision.ends_on = [1500, 4000], datetime.date(2027, 1, 31)
    revision.save()
    services.record_editor(revision, editor)
    diff = "\n".join(revisions.revision_diff(revision))
    assert "+closes on: 2027-01-31" in diff and "+suggested amounts: 1500, 4000 (minor units)" in diff
    campaign.refresh_from_db()
    assert campaign.suggested_amounts == [] and campaign.ends_on is None
    revisions.approve_revision(revision, by=factories.role_user("editor"), seen=revisions.revision_digest(revision))
    campaign.refresh_from_db()
    assert campaign.suggested_amounts == [1500, 4000] and campaign.ends_on == datetime.date(2027, 1, 31)
