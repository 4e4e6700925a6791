"""Reads of campaigns, shaped so that a page costs a fixed number of queries."""

from __future__ import annotations

from functools import cache

from django.db.models import OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from .models import PUBLIC_STATUSES, Campaign, Need, Note, Update


def _with_card_content(queryset: QuerySet[Campaign]) -> QuerySet[Campaign]:
    return queryset.select_related("beneficiary").prefetch_related("translations", "beneficiary__translations")


def _with_page_content(queryset: QuerySet[Campaign]) -> QuerySet[Campaign]:
    # Needs come in their model's order (position); updates are read with their translations
    # (``update_translations``).
    return _with_card_content(queryset).prefetch_related("needs", "needs__translations")


# Building a queryset with its annotations and prefetches costs about as much as running its
# queries: the public reads are built once, and each caller gets its own copy (``.all()``) to
# filter and evaluate. Their prefetches are named by strings, so no state is shared.
@cache
def _public() -> QuerySet[Campaign]:
    return _with_card_content(Campaign.objects.filter(status__in=PUBLIC_STATUSES)).annotate(goal_total=goal_subquery())


@cache
def _public_pages() -> QuerySet[Campaign]:
    return _with_page_content(Campaign.objects.filter(status__in=PUBLIC_STATUSES))


@cache
def _donatable() -> QuerySet[Campaign]:
    return _with_card_content(Campaign.objects.filter(status__in=PUBLIC_STATUSES)).prefetch_related(
        "needs", "needs__translations"
    )


def public_campaigns() -> QuerySet[Campaign]:
    """Campaigns the public may see, with what a card shows prefetched and the goal annotated."""
    return _public().all()


def public_campaign(slug: str) -> Campaign | None:
    """One public campaign with everything its page shows, or None (a draft is None too)."""
    return _public_pages().filter(slug=slug).first()


def donatable_campaign(slug: str) -> Campaign | None:
    """One public campaign with what its donate form shows (its card and needs, no updates)."""
    return _donatable().filter(slug=slug).first()


def campaign_for_preview(pk: int) -> Campaign | None:
    """Any campaign, whatever its status, for the staff preview."""
    return _with_page_content(Campaign.objects.filter(pk=pk)).first()


def note_translations_by_key(keys: set[str]) -> dict[str, list]:
    """The translations of the notes ``keys`` name, per note key, in one query (a note with no
    translation is absent)."""
    if not keys:
        return {}
    translations: dict[str, list] = {}
    for translation in Note._parler_meta.root_model.objects.filter(master__key__in=keys).select_related("master"):
        translations.setdefault(translation.master.key, []).append(translation)
    return translations


def update_translations(campaign_id: int) -> list[tuple[Update, list]]:
    """The campaign's updates, newest first, each with its translations, in one query. An
    update with no translation is absent: it has nothing to show in any language."""
    rows = (
        Update._parler_meta.root_model.objects.filter(master__campaign_id=campaign_id)
        .select_related("master")
        .order_by("-master__published_on", "-master_id", "pk")
    )
    updates: dict[int, tuple[Update, list]] = {}
    for translation in rows:
        updates.setdefault(translation.master_id, (translation.master, []))[1].append(translation)
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
