"""Reads of campaigns, shaped so that a page costs a fixed number of queries."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

from django.db.models import OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from zbor.db import as_date, placeholders, select

from .models import PUBLIC_STATUSES, Beneficiary, Campaign, Need, Note, Update


def _public_rows() -> QuerySet[Campaign]:
    # The texts a card or a page shows are read apart (``campaign_texts``, ``public_needs``):
    # translation rows read as rows cost a tenth of parler's prefetches. So is the beneficiary's
    # one public fact: nothing else of its row (its sealed private data) is read for the public.
    return Campaign.objects.filter(status__in=PUBLIC_STATUSES)


# Building a queryset with its annotations and prefetches costs about as much as running its
# queries: the public reads are built once, and each caller gets its own copy (``.all()``) to
# filter and evaluate. Their prefetches are named by strings, so no state is shared.
@cache
def _public() -> QuerySet[Campaign]:
    return _public_rows().annotate(goal_total=goal_subquery())


@cache
def _donatable() -> QuerySet[Campaign]:
    # The form labels its needs with parler's translations (``DonateChoices``).
    return _public_rows().prefetch_related("needs", "needs__translations")


def public_campaigns() -> QuerySet[Campaign]:
    """Campaigns the public may see, with the goal annotated (their texts: ``campaign_texts``)."""
    return _public().all()


def public_campaign(slug: str) -> Campaign | None:
    """One public campaign, or None (a draft is None too). What its page shows is read by
    ``zbor.public.pages.build_page``."""
    return _public_rows().filter(slug=slug).first()


def donatable_campaign(slug: str) -> Campaign | None:
    """One public campaign with what its donate form shows (its needs with their translations)."""
    return _donatable().filter(slug=slug).first()


def campaign_for_preview(pk: int) -> Campaign | None:
    """Any campaign, whatever its status, for the staff preview."""
    return Campaign.objects.filter(pk=pk).first()


class CampaignText(NamedTuple):
    """One translation of a campaign, as the public pages read it (``story`` only on a page)."""

    language_code: str
    title: str
    summary: str
    location: str
    cover_alt: str
    story: str


class NameText(NamedTuple):
    """One translation of a beneficiary's public name."""

    language_code: str
    display_name: str


@dataclass(frozen=True)
class CampaignTexts:
    """A campaign's translations and its beneficiary's, for ``pick_from``."""

    own: list[CampaignText]
    name: list[NameText]
    #: The beneficiary's public name is not their real one (a page says so).
    name_is_pseudonym: bool


def campaign_texts(campaigns: Sequence[Campaign], *, story: bool = False) -> dict[int, CampaignTexts]:
    """The translations of ``campaigns`` and their beneficiaries' names, by campaign id, in two
    queries (a campaign with none has empty lists). The story, the one long text, only with
    ``story``."""
    if not campaigns:
        return {}
    ids = [c.pk for c in campaigns]
    own: dict[int, list[CampaignText]] = {pk: [] for pk in ids}
    story_column = "story" if story else "''"
    for master_id, *values in select(
        Campaign,
        "SELECT master_id, language_code, title, summary, location, cover_alt, "  # noqa: S608 (column and placeholders only)
        f"{story_column} FROM campaigns_campaign_translation WHERE master_id IN ({placeholders(len(ids))}) ORDER BY id",
        ids,
    ):
        own[master_id].append(CampaignText(*values))
    # A programme fund has no beneficiary: no name, and nothing to read when no campaign has one.
    names: dict[int | None, tuple[bool, list[NameText]]] = {None: (False, [])}
    beneficiaries = list({c.beneficiary_id for c in campaigns} - {None})
    rows = (
        select(
            Beneficiary,
            "SELECT b.id, b.name_is_pseudonym, t.language_code, t.display_name FROM campaigns_beneficiary b "  # noqa: S608 (placeholders only)
            "LEFT JOIN campaigns_beneficiary_translation t ON t.master_id = b.id "
            f"WHERE b.id IN ({placeholders(len(beneficiaries))}) ORDER BY t.id",
            beneficiaries,
        )
        if beneficiaries
        else []
    )
    for beneficiary_id, pseudonym, language_code, display_name in rows:
        _pseudonym, translations = names.setdefault(beneficiary_id, (bool(pseudonym), []))  # SQLite: 0 or 1
        if language_code is not None:
            translations.append(NameText(language_code, display_name))
    return {c.pk: CampaignTexts(own[c.pk], names[c.beneficiary_id][1], names[c.beneficiary_id][0]) for c in campaigns}


class NeedText(NamedTuple):
    language_code: str
    description: str


@dataclass(frozen=True)
class PublicNeed:
    """A need as the public pages show it: its amount and its description in every language."""

    pk: int
    amount: int
    translations: list[NeedText]


def public_needs(campaign_id: int) -> list[PublicNeed]:
    """The campaign's needs in their order, each with its translations, in one query."""
    needs: dict[int, PublicNeed] = {}
    for pk, amount, language_code, description in select(
        Need,
        "SELECT n.id, n.amount, t.language_code, t.description FROM campaigns_need n "
        "LEFT JOIN campaigns_need_translation t ON t.master_id = n.id "
        "WHERE n.campaign_id = %s ORDER BY n.position, n.id, t.id",
        [campaign_id],
    ):
        need = needs.setdefault(pk, PublicNeed(pk, amount, []))
        if language_code is not None:
            need.translations.append(NeedText(language_code, description))
    return list(needs.values())


class NoteText(NamedTuple):
    language_code: str
    term: str
    text: str


def note_translations_by_key(keys: set[str]) -> dict[str, list[NoteText]]:
    """The translations of the notes ``keys`` name, per note key, in one query (a note with no
    translation is absent)."""
    if not keys:
        return {}
    ordered = sorted(keys)
    translations: dict[str, list[NoteText]] = {}
    for key, *values in select(
        Note,
        "SELECT n.key, t.language_code, t.term, t.text FROM campaigns_note_translation t "  # noqa: S608 (placeholders only)
        f"JOIN campaigns_note n ON n.id = t.master_id WHERE n.key IN ({placeholders(len(ordered))}) ORDER BY t.id",
        ordered,
    ):
        translations.setdefault(key, []).append(NoteText(*values))
    return translations


@dataclass(frozen=True)
class PublicUpdate:
    pk: int
    published_on: datetime.date


class UpdateText(NamedTuple):
    language_code: str
    title: str
    body: str


def update_translations(campaign_id: int) -> list[tuple[PublicUpdate, list[UpdateText]]]:
    """The campaign's updates, newest first, each with its translations, in one query. An
    update with no translation is absent: it has nothing to show in any language."""
    updates: dict[int, tuple[PublicUpdate, list[UpdateText]]] = {}
    for pk, published_on, *text in select(
        Update,
        "SELECT u.id, u.published_on, t.language_code, t.title, t.body FROM campaigns_update_translation t "
        "JOIN campaigns_update u ON u.id = t.master_id "
        "WHERE u.campaign_id = %s ORDER BY u.published_on DESC, u.id DESC, t.id",
        [campaign_id],
    ):
        updates.setdefault(pk, (PublicUpdate(pk, as_date(published_on)), []))[1].append(UpdateText(*text))
    return list(updates.values())


def existing_note_keys(keys: set[str]) -> set[str]:
    return set(Note.objects.filter(key__in=keys).values_list("key", flat=True)) if keys else set()


def goal_subquery():
    """An expression for a Campaign queryset: the goal in minor units, the sum of its needs."""
    total = (
        Need.objects.filter(campaign=OuterRef("pk"))
        .order_by()
        .values("campaign")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(total), 0)


def note_is_used(key: str) -> bool:
    """Whether any story or update places the note (deleting it would leave a gap)."""
    # parler generates CampaignTranslation and UpdateTranslation at run time, so reach them
    # through parler's metadata rather than importing names the type checker cannot see.
    campaign_translation = Campaign._parler_meta.root_model
    update_translation = Update._parler_meta.root_model
    needle = f"[[note:{key}]]"
    return (
        campaign_translation.objects.filter(story__icontains=needle).exists()
        or update_translation.objects.filter(body__icontains=needle).exists()
    )


def need_names(language: str, ids: Iterable[int] | None = None) -> dict[int, str]:
    """Needs' descriptions in ``language`` (else in the first language each has), by id, in one
    query: every need, or those ``ids`` name. For staff lists and exports that name needs; a
    foundation has thousands of needs at most, never millions."""
    return _names(Need.objects.all(), "description", language, ids)


def campaign_names(language: str, ids: Iterable[int] | None = None) -> dict[int, str]:
    """Campaigns' titles in ``language`` (else in the first language each has), by id, in one query."""
    return _names(Campaign.objects.all(), "title", language, ids)


def _names(rows: QuerySet, field: str, language: str, ids: Iterable[int] | None) -> dict[int, str]:
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    names: dict[int, str] = {}
    for pk, language_code, text in rows.values_list(
        "pk", "translations__language_code", f"translations__{field}"
    ).order_by("pk", "translations__id"):
        if pk not in names or language_code == language:
            names[pk] = text or f"#{pk}"
    return names
