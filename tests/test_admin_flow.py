"""Staff write a campaign in the admin, translate it, publish it, and the public reads it."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests import factories
from zbor.campaigns.models import Campaign, Need, Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(factories.staff_user("editor"))
    return client


def _campaign_form(beneficiary, **overrides):
    data = {
        "title": "Winter boots for a family",
        "summary": "A family needs winter boots.",
        "slug": "winter-boots",
        "beneficiary": str(beneficiary.pk),
        "category": "family",
        "location": "Belarus",
        "original_language": "en",
        "story": "A story.\n\n[[note:shizo]]\n\nThe end.",
        "currency": "EUR",
        "cover_alt": "",
        "needs-TOTAL_FORMS": "2",
        "needs-INITIAL_FORMS": "0",
        "needs-MIN_NUM_FORMS": "0",
        "needs-MAX_NUM_FORMS": "1000",
        "needs-0-position": "0",
        "needs-0-description": "Boots for two children",
        "needs-0-amount": "120",
        "needs-1-position": "1",
        "needs-1-description": "Warm socks",
        "needs-1-amount": "30.50",
        "updates-TOTAL_FORMS": "0",
        "updates-INITIAL_FORMS": "0",
        "updates-MIN_NUM_FORMS": "0",
        "updates-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def _errors(response) -> str:
    return " ".join(
        re.sub(r"<[^>]+>", " ", m)
        for m in re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode(), re.S)
    )


def _translate(staff_client, campaign, language, title, summary, story, descriptions, **extra):
    needs = list(campaign.needs.order_by("position"))
    data = _campaign_form(campaign.beneficiary, title=title, summary=summary, story=story, **extra)
    data.update({"needs-TOTAL_FORMS": str(len(needs)), "needs-INITIAL_FORMS": str(len(needs))})
    for i, (need, description) in enumerate(zip(needs, descriptions, strict=True)):
        data.update(
            {
                f"needs-{i}-id": str(need.pk),
                f"needs-{i}-campaign": str(campaign.pk),
                f"needs-{i}-position": str(need.position),
                f"needs-{i}-amount": str(need.amount / 100).rstrip("0").rstrip("."),
                f"needs-{i}-description": description,
            }
        )
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk]) + f"?language={language}"
    response = staff_client.post(url, data)
    assert response.status_code == 302, _errors(response)


def _action(staff_client, campaign, action):
    return staff_client.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": action, "_selected_action": [str(campaign.pk)]},
        follow=True,
    )


def test_staff_write_translate_publish_and_the_public_reads_every_language(staff_client, client):
    factories.note(
        "shizo",
        en=("SHIZO", "A punishment cell."),
        ru=("ШИЗО", "Штрафной изолятор."),
        be=("ШІЗА", "Штрафны ізалятар."),
        pl=("SZIZO", "Karna izolatka."),
    )
    beneficiary = factories.beneficiary(name="Olga", ru="Ольга")
    staff_client.force_login(factories.role_user("editor", "first-editor"))
    response = staff_client.post(reverse("admin:campaigns_campaign_add") + "?language=en", _campaign_form(beneficiary))
    assert response.status_code == 302, _errors(response)
    campaign = Campaign.objects.get(slug="winter-boots")
    assert campaign.status == Status.DRAFT
    assert [n.amount for n in campaign.needs.order_by("position")] == [12000, 3050]

    _translate(
        staff_client,
        campaign,
        "ru",
        "Зимние ботинки для семьи",
        "Семье нужны ботинки.",
        "История.\n\n[[note:shizo]]\n\nКонец.",
        ["Ботинки для двоих детей", "Тёплые носки"],
    )
    _translate(
        staff_client,
        campaign,
        "pl",
        "Zimowe buty dla rodziny",
        "Rodzina potrzebuje butów.",
        "Historia.\n\n[[note:shizo]]",
        ["Buty dla dwojga dzieci", "Ciepłe skarpety"],
    )

    assert client.get("/en/campaigns/winter-boots/").status_code == 404  # still a draft

    # The preview shows it to staff before anyone else.
    preview = staff_client.get(f"/ru/campaigns/preview/{campaign.pk}/")
    assert preview.status_code == 200 and "Зимние ботинки для семьи" in preview.content.decode()

    _action(staff_client, campaign, "send_to_review")
    _action(staff_client, campaign, "approve")  # the same person cannot approve
    campaign.refresh_from_db()
    assert campaign.status == Status.IN_REVIEW
    staff_client.force_login(factories.role_user("editor", "second-editor"))
    _action(staff_client, campaign, "approve")
    campaign.refresh_from_db()
    assert campaign.status == Status.PUBLISHED and campaign.published_at

    expectations = {
        "en": ["Winter boots for a family", "Olga", "Boots for two children", "€150.50", "A punishment cell."],
        "ru": ["Зимние ботинки для семьи", "Ольга", "Тёплые носки", "150,50\u00a0€", "Штрафной изолятор."],
        "be": ["Winter boots for a family", "Olga", "Boots for two children", "150,50\u00a0€", "Штрафны ізалятар."],
        "pl": ["Zimowe buty dla rodziny", "Olga", "Ciepłe skarpety", "150,50\u00a0€", "Karna izolatka."],
    }
    for language, texts in expectations.items():
        html = client.get(f"/{language}/campaigns/winter-boots/").content.decode()
        for text in texts:
            assert text in html, (language, text)
        assert "winter-boots" in client.get(f"/{language}/campaigns/").content.decode()


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "greater than zero"),
        ("-20", "greater than zero"),
        ("ten", "Enter a number"),
        ("1.2345", "at most 2 decimal places"),
        ("2000000000", "at most"),
    ],
)
def test_a_bad_need_amount_is_refused_with_a_message_and_nothing_is_saved(staff_client, amount, message):
    beneficiary = factories.beneficiary()
    response = staff_client.post(
        reverse("admin:campaigns_campaign_add") + "?language=en",
        _campaign_form(beneficiary, **{"needs-1-amount": amount}),
    )
    assert response.status_code == 200
    assert message in _errors(response)
    assert not Campaign.objects.exists() and not Need.objects.exists()


def test_a_reference_to_a_missing_note_is_refused_with_a_message(staff_client):
    beneficiary = factories.beneficiary()
    response = staff_client.post(
        reverse("admin:campaigns_campaign_add") + "?language=en",
        _campaign_form(beneficiary, story="Text.\n\n[[note:unknown-term]]"),
    )
    assert response.status_code == 200
    assert "There is no foundation note with the key “unknown-term”" in _errors(response)
    assert not Campaign.objects.exists()


def test_an_unknown_currency_is_refused(staff_client):
    response = staff_client.post(
        reverse("admin:campaigns_campaign_add") + "?language=en",
        _campaign_form(factories.beneficiary(), currency="XYZ", story="Fine."),
    )
    assert response.status_code == 200 and "not an ISO 4217 currency code" in _errors(response)


def test_need_amounts_follow_the_campaign_currency(staff_client):
    beneficiary = factories.beneficiary()
    data = _campaign_form(beneficiary, currency="JPY", story="Fine.", **{"needs-1-amount": "30.50"})
    response = staff_client.post(reverse("admin:campaigns_campaign_add") + "?language=en", data)
    assert "JPY amounts have at most 0 decimal places" in _errors(response)
    data["needs-1-amount"] = "3000"
    assert staff_client.post(reverse("admin:campaigns_campaign_add") + "?language=en", data).status_code == 302
    assert sorted(Need.objects.values_list("amount", flat=True)) == [120, 3000]


def test_an_uploaded_cover_loses_its_metadata(staff_client):
    from zbor.campaigns.tests.test_images import _jpeg_with_exif

    data = _campaign_form(factories.beneficiary(), story="Fine.")
    data["cover"] = SimpleUploadedFile("olga-home.jpg", _jpeg_with_exif(), content_type="image/jpeg")
    response = staff_client.post(reverse("admin:campaigns_campaign_add") + "?language=en", data)
    assert response.status_code == 302, _errors(response)
    campaign = Campaign.objects.get()
    stored = campaign.cover.read()
    assert b"SecretCam" not in stored and b"Home Street" not in stored
    assert "olga" not in campaign.cover.name
    # Every size the pages offer was made from the cleaned picture, so none carries metadata.
    from zbor.images import variant_names

    for name in variant_names(campaign.cover.name):
        with campaign.cover.storage.open(name, "rb") as variant:
            data = variant.read()
        assert b"SecretCam" not in data and b"Home Street" not in data


def test_publishing_a_campaign_without_needs_shows_why(staff_client):
    campaign = factories.campaign(status=Status.DRAFT, needs=())
    response = _action(staff_client, campaign, "send_to_review")
    assert "at least one need" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == Status.DRAFT


def test_admin_screens_render(staff_client):
    factories.note("shizo")
    campaign = factories.campaign()
    for name, args in [
        ("admin:campaigns_campaign_changelist", []),
        ("admin:campaigns_campaign_change", [campaign.pk]),
        ("admin:campaigns_campaign_add", []),
        ("admin:campaigns_beneficiary_changelist", []),
        ("admin:campaigns_note_changelist", []),
        ("admin:campaigns_update_changelist", []),
    ]:
        assert staff_client.get(reverse(name, args=args)).status_code == 200, name
    changelist = staff_client.get(
        reverse("admin:campaigns_campaign_changelist") + "?status__exact=published"
    ).content.decode()
    assert "€2,000" in changelist


def _revision_form(revision, **overrides):
    """The change form of a revision, as the admin would post it (its copied needs included)."""
    needs = list(revision.needs.order_by("position"))
    data = _campaign_form(revision.beneficiary, slug=revision.slug, **overrides)
    data.update({"needs-TOTAL_FORMS": str(len(needs)), "needs-INITIAL_FORMS": str(len(needs))})
    for i, need in enumerate(needs):
        data.update(
            {
                f"needs-{i}-id": str(need.pk),
                f"needs-{i}-campaign": str(revision.pk),
                f"needs-{i}-position": str(i),
                f"needs-{i}-amount": str(need.amount // 100),
                f"needs-{i}-description": f"Need {i + 1}",
            }
        )
    return data


def test_a_published_campaign_keeps_its_currency_and_needs(staff_client):
    from zbor.campaigns import revisions

    campaign = factories.campaign(status=Status.PUBLISHED)
    # The live campaign itself is not editable in place.
    live_url = reverse("admin:campaigns_campaign_change", args=[campaign.pk]) + "?language=en"
    assert staff_client.post(live_url, _revision_form(campaign)).status_code == 403
    revision = revisions.start_revision(campaign, by=factories.role_user("editor"))
    data = _revision_form(revision, currency="PLN", story="Fine.")
    url = reverse("admin:campaigns_campaign_change", args=[revision.pk]) + "?language=en"
    response = staff_client.post(url, data)
    assert response.status_code == 200 and "currency cannot change" in _errors(response)
    data["currency"] = "EUR"
    data["needs-0-DELETE"] = "on"
    response = staff_client.post(url, data)
    assert response.status_code == 200 and "cannot be deleted" in response.content.decode()
    assert campaign.needs.count() == 3 and revision.needs.count() == 3


def test_a_note_in_use_cannot_be_deleted_or_renamed(staff_client):
    note = factories.note("shizo")
    factories.campaign(story="Text\n\n[[note:shizo]]")
    assert staff_client.get(reverse("admin:campaigns_note_delete", args=[note.pk])).status_code == 403
    page = staff_client.get(reverse("admin:campaigns_note_change", args=[note.pk])).content.decode()
    assert 'name="key"' not in page
    unused = factories.note("unused")
    assert staff_client.get(reverse("admin:campaigns_note_delete", args=[unused.pk])).status_code == 200


def test_staff_edits_in_the_admin_are_audited_by_field_name(staff_client):
    from zbor.accounts.models import AuditEvent

    beneficiary = factories.beneficiary()
    response = staff_client.post(
        reverse("admin:campaigns_campaign_add") + "?language=en", _campaign_form(beneficiary, story="Secret words.")
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get(slug="winter-boots")
    event = AuditEvent.objects.get(action="campaigns.campaign.add", object_id=str(campaign.pk))
    assert event.actor_label == "editor"
    assert "Secret words" not in str(event.fields)


def test_editing_a_public_campaign_stages_a_revision_and_keeps_it_online(client):
    from zbor.campaigns import revisions

    campaign = factories.campaign(slug="winter-boots")
    first_published = campaign.published_at
    editor = factories.role_user("editor", "lone-editor")
    client.force_login(editor)
    changelist = reverse("admin:campaigns_campaign_changelist")
    response = client.post(changelist, {"action": "start_revision", "_selected_action": [str(campaign.pk)]})
    assert response.status_code == 302
    revision = Campaign.objects.get(revision_of=campaign)
    data = _revision_form(revision, title="Changed title", story="A new story.", category="relocation")
    response = client.post(reverse("admin:campaigns_campaign_change", args=[revision.pk]) + "?language=en", data)
    assert response.status_code == 302, _errors(response)
    campaign.refresh_from_db()
    assert campaign.status == Status.PUBLISHED
    from django.test import Client

    public = Client()  # a visitor: no staff flash messages on the page
    page = public.get("/en/campaigns/winter-boots/")
    assert page.status_code == 200 and "Changed title" not in page.content.decode()
    review = client.get(reverse("admin:campaigns_campaign_review", args=[revision.pk]))
    assert review.status_code == 200 and "+[en] title: Changed title" in review.content.decode()
    seen = review.context["seen"]
    with pytest.raises(revisions.FourEyesViolation):
        revisions.approve_revision(revision, by=editor, seen=seen)
    reviewer = factories.role_user("editor")
    client.force_login(reviewer)
    response = client.post(
        reverse("admin:campaigns_campaign_review", args=[revision.pk]), {"do": "approve", "seen": seen}
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == Status.PUBLISHED and campaign.published_at == first_published
    assert not Campaign.objects.filter(pk=revision.pk).exists()
    assert "Changed title" in public.get("/en/campaigns/winter-boots/").content.decode()


def test_editors_see_the_missing_languages_and_may_require_one_before_review(staff_client):
    factories.note("shizo")
    beneficiary = factories.beneficiary()
    data = _campaign_form(beneficiary, required_languages=["ru"])
    response = staff_client.post(reverse("admin:campaigns_campaign_add") + "?language=en", data)
    assert response.status_code == 302, _errors(response)
    campaign = Campaign.objects.get(slug="winter-boots")
    assert campaign.required_languages == ["ru"]
    listing = staff_client.get(reverse("admin:campaigns_campaign_changelist")).content.decode()
    assert "languages missing" in listing.lower()
    # Russian is required, so it stands out among the missing ones.
    assert "<strong>ru</strong>, be, pl" in listing
    response = _action(staff_client, campaign, "send_to_review")
    assert "must be complete in Russian before review" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == Status.DRAFT
    _translate(
        staff_client,
        campaign,
        "ru",
        "Зимние ботинки для семьи",
        "Семье нужны зимние ботинки.",
        "История.\n\n[[note:shizo]]\n\nКонец.",
        ["Ботинки для двоих детей", "Тёплые носки"],
        required_languages=["ru"],
    )
    campaign.refresh_from_db()
    assert campaign.required_languages == ["ru"]
    listing = staff_client.get(reverse("admin:campaigns_campaign_changelist")).content.decode()
    assert "<strong>ru</strong>" not in listing and "be, pl" in listing
    _action(staff_client, campaign, "send_to_review")
    campaign.refresh_from_db()
    assert campaign.status == Status.IN_REVIEW
