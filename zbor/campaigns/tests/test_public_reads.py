"""The public pages' reads of campaign texts (zbor.campaigns.selectors): translation rows read
with short SELECTs, grouped per campaign, need, update and note, in the order the pages show."""

import datetime

import pytest

from tests import factories
from zbor.campaigns import selectors
from zbor.campaigns.models import Beneficiary, Need

pytestmark = pytest.mark.django_db


def test_campaign_texts_group_each_campaigns_and_its_beneficiarys_translations():
    first = factories.campaign(title="First", translations={"ru": {"title": "Первая", "story": "История"}})
    second = factories.campaign(title="Second")
    first.beneficiary.create_translation("pl", display_name="Ania")
    texts = selectors.campaign_texts([first, second])
    assert [(t.language_code, t.title) for t in texts[first.pk].own] == [("en", "First"), ("ru", "Первая")]
    assert [(t.language_code, t.display_name) for t in texts[first.pk].name] == [("en", "Anna"), ("pl", "Ania")]
    assert [t.title for t in texts[second.pk].own] == ["Second"]
    assert texts[first.pk].name_is_pseudonym is True
    # The story, the one long text, only when a page asks for it.
    assert {t.story for t in texts[first.pk].own} == {""}
    with_story = selectors.campaign_texts([first], story=True)[first.pk].own
    assert [t.story for t in with_story] == ["A story in **markdown**.", "История"]


def test_campaign_texts_of_nothing_is_nothing_and_a_campaign_without_translations_has_empty_lists(
    django_assert_num_queries,
):
    with django_assert_num_queries(0):
        assert selectors.campaign_texts([]) == {}
    campaign = factories.campaign()
    campaign.translations.all().delete()
    campaign.beneficiary.translations.all().delete()
    Beneficiary.objects.filter(pk=campaign.beneficiary_id).update(name_is_pseudonym=False)
    texts = selectors.campaign_texts([campaign])[campaign.pk]
    assert texts.own == [] and texts.name == [] and texts.name_is_pseudonym is False


def test_public_needs_come_in_their_order_with_their_translations_and_one_without_any_too():
    campaign = factories.campaign(needs=(100, 200))
    first, second = Need.objects.filter(campaign=campaign).order_by("position")
    first.position, second.position = 2, 1
    first.save(), second.save()
    first.create_translation("ru", description="Нужда 1")
    bare = Need.objects.create(campaign=campaign, position=3, amount=300)
    needs = selectors.public_needs(campaign.pk)
    assert [(n.pk, n.amount) for n in needs] == [(second.pk, 200), (first.pk, 100), (bare.pk, 300)]
    assert [(t.language_code, t.description) for t in needs[1].translations] == [("en", "Need 1"), ("ru", "Нужда 1")]
    assert needs[2].translations == []


def test_updates_come_newest_first_with_their_dates_and_one_with_no_text_is_left_out():
    campaign = factories.campaign()
    older = factories.update(campaign, title="Older")
    newer = factories.update(campaign, title="Newer")
    newer.create_translation("ru", title="Новее", body="Текст")
    older.published_on, newer.published_on = datetime.date(2026, 11, 1), datetime.date(2026, 11, 20)
    older.save(), newer.save()
    factories.update(campaign).translations.all().delete()  # nothing to show in any language
    read = selectors.update_translations(campaign.pk)
    assert [(u.pk, u.published_on) for u, _texts in read] == [
        (newer.pk, datetime.date(2026, 11, 20)),
        (older.pk, datetime.date(2026, 11, 1)),
    ]
    assert isinstance(read[0][0].published_on, datetime.date)  # SQLite's driver gives text
    assert [(t.language_code, t.title) for t in read[0][1]] == [("en", "Newer"), ("ru", "Новее")]


def test_notes_are_read_by_key_with_their_translations():
    factories.note("shizo", en=("SHIZO", "A cell."), ru=("ШИЗО", "Камера."))
    factories.note("other")
    read = selectors.note_translations_by_key({"shizo", "missing"})
    assert list(read) == ["shizo"]
    assert [(t.language_code, t.term) for t in read["shizo"]] == [("en", "SHIZO"), ("ru", "ШИЗО")]
    assert selectors.note_translations_by_key(set()) == {}
