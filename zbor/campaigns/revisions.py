"""Staged changes: nothing a public page shows changes on one person's say.

A live campaign (published, funded or closed) is never edited in place. Its editors work on a
*revision*, a copy of the campaign with its translations, needs and updates (status
``revision``, never public); every person who saves a change to it is recorded as its editor.
A second person, who is none of those editors, reads the diff of the public text and approves
it: under the live campaign's row lock the revision's content is copied onto the live campaign
and the revision is deleted, with an audit row, in one transaction. Until then the public page
(HTML, API, share card, embed) keeps the last approved content.

Text shared across campaigns — a beneficiary's display name, a foundation note — is staged the
same way as a :class:`StagedText`, approved by someone who did not propose it.

Emergency unpublish stays one person's act (zbor.campaigns.services.emergency_unpublish).
"""

from __future__ import annotations

import difflib
import hashlib
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from zbor.accounts.services import audit
from zbor.images import delete_cover

from .exceptions import CampaignNotReady, FourEyesViolation, TransitionNotAllowed
from .floors import floor_problems
from .models import (
    PUBLIC_STATUSES,
    Beneficiary,
    Campaign,
    CampaignEditor,
    Need,
    Note,
    StagedText,
    Status,
    Update,
)
from .services import is_at_risk, lock_with_beneficiary, may_approve, publication_problems, record_editor

if TYPE_CHECKING:
    from django.contrib.auth.models import User

#: Campaign columns a revision carries and an approval copies back (what public pages show).
CAMPAIGN_FIELDS = (
    "kind",
    "category",
    "cover",
    "ends_on",
    "suggested_amounts",
    "yearly_target",
    "monthly_fund",
    "required_languages",
)
NEED_FIELDS = ("position", "amount")
UPDATE_FIELDS = ("published_on",)


def _translated_fields(model) -> list[str]:
    root = model._parler_meta.root_model
    return [f.name for f in root._meta.concrete_fields if f.name not in ("id", "master", "language_code")]


def _copy_translations(source, target) -> None:
    """Make ``target``'s translations exactly ``source``'s (rows of parler's translation table)."""
    root = type(source)._parler_meta.root_model
    names = _translated_fields(type(source))
    wanted = {t.language_code: t for t in root.objects.filter(master=source)}
    # One row at a time, through the models' save and delete: parler keeps its translation
    # cache (shared by every process) in step only on those.
    for existing in root.objects.filter(master=target):
        if existing.language_code not in wanted:
            existing.delete()
    current = {t.language_code: t for t in root.objects.filter(master=target)}
    for code, t in sorted(wanted.items()):
        row = current.get(code) or root(master=target, language_code=code)
        for n in names:
            setattr(row, n, getattr(t, n))
        row.save()
    # Drop parler's per-instance caches so the copy is read afresh.
    getattr(target, "_translations_cache", {}).clear()
    getattr(target, "_prefetched_objects_cache", {}).pop("translations", None)


def start_revision(campaign: Campaign, *, by: User) -> Campaign:
    """The open revision of a live campaign, created (a full copy) if there is none yet."""
    if not by.has_perm("campaigns.change_campaign"):
        raise PermissionDenied("Your role may not change campaigns.")
    with transaction.atomic():
        live = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if live.status not in PUBLIC_STATUSES:
            raise TransitionNotAllowed(_("Only a campaign on the public site is changed through a revision."))
        existing = Campaign.objects.filter(revision_of=live).first()
        if existing is not None:
            return existing
        revision = Campaign.objects.create(
            slug=f"revision-{live.pk}-{get_random_string(8).lower()}",
            beneficiary_id=live.beneficiary_id,
            currency=live.currency,
            original_language=live.original_language,
            published_at=live.published_at,
            status=Status.REVISION,
            revision_of=live,
            **{f: getattr(live, f) for f in CAMPAIGN_FIELDS},
        )
        _copy_translations(live, revision)
        for need in live.needs.order_by("position", "id"):
            copy = Need.objects.create(campaign=revision, replaces=need, **{f: getattr(need, f) for f in NEED_FIELDS})
            _copy_translations(need, copy)
        for update in live.updates.order_by("published_on", "id"):
            copy = Update.objects.create(
                campaign=revision, replaces=update, **{f: getattr(update, f) for f in UPDATE_FIELDS}
            )
            _copy_translations(update, copy)
        audit(by, "campaign.revision_start", live, fields=[])
    return revision


def discard_revision(revision: Campaign, *, by: User) -> None:
    if not by.has_perm("campaigns.change_campaign"):
        raise PermissionDenied("Your role may not change campaigns.")
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=revision.pk)
        if locked.status != Status.REVISION:
            raise TransitionNotAllowed(_("This is not a revision."))
        live = locked.revision_of
        cover = locked.cover.name
        if cover and cover != live.cover.name:
            storage = locked.cover.storage
            transaction.on_commit(lambda: delete_cover(storage, cover))
        audit(by, "campaign.revision_discard", live, fields=[])
        locked.delete()


def public_text(campaign: Campaign) -> list[str]:
    """What a campaign's public pages show, one line per fact, for the reviewers' diff."""
    lines = [
        f"category: {campaign.category}",
        f"cover: {campaign.cover.name or '-'}",
        f"closes on: {campaign.ends_on.isoformat() if campaign.ends_on else '-'}",
        f"suggested amounts: {', '.join(map(str, campaign.suggested_amounts or [])) or '-'} (minor units)",
        f"kind: {campaign.kind}",
        f"yearly target: {campaign.yearly_target or '-'} (minor units)",
        f"monthly gifts after closing go to: {campaign.monthly_fund.slug if campaign.monthly_fund else '-'}",
        f"languages required before review: {', '.join(campaign.required_languages or []) or '-'}",
    ]
    names = _translated_fields(Campaign)
    for t in sorted(campaign.translations.all(), key=lambda t: t.language_code):
        for name in names:
            for line in str(getattr(t, name) or "").splitlines() or [""]:
                lines.append(f"[{t.language_code}] {name}: {line}")
    for number, need in enumerate(campaign.needs.order_by("position", "id"), start=1):
        lines.append(f"need {number}: {need.amount} (minor units of {campaign.currency})")
        for t in sorted(need.translations.all(), key=lambda t: t.language_code):
            lines.append(f"need {number} [{t.language_code}]: {t.description}")
    for update in campaign.updates.order_by("published_on", "id"):
        head = f"update {update.published_on.isoformat()}"
        lines.append(head)
        for t in sorted(update.translations.all(), key=lambda t: t.language_code):
            lines.append(f"{head} [{t.language_code}] title: {t.title}")
            for line in t.body.splitlines() or [""]:
                lines.append(f"{head} [{t.language_code}] text: {line}")
    return lines


def revision_diff(revision: Campaign, text: list[str] | None = None) -> list[str]:
    """A unified diff of the public text: the live campaign against its revision (whose
    ``public_text`` may be given, when the caller has it already)."""
    live = revision.revision_of
    if live is None:
        raise TransitionNotAllowed(_("This is not a revision."))
    new = public_text(revision) if text is None else text
    return list(difflib.unified_diff(public_text(live), new, "live", "revision", lineterm="", n=2))


def revision_digest(revision: Campaign, text: list[str] | None = None) -> str:
    """A fingerprint of what the revision would publish: an approval names the version it saw."""
    return hashlib.sha256("\n".join(public_text(revision) if text is None else text).encode()).hexdigest()


def _may_approve(by) -> None:
    if not may_approve(by):
        raise PermissionDenied("Your role may not approve campaigns.")


def approve_revision(revision: Campaign, *, by: User, seen: str) -> Campaign:
    """A second person puts a revision live. ``seen`` is the digest of the version they read:
    if anyone changed the revision since, nothing happens. Returns the live campaign."""
    _may_approve(by)
    with transaction.atomic():
        live_pk = Campaign.objects.filter(pk=revision.pk).values_list("revision_of_id", flat=True).first()
        if live_pk is None:
            raise TransitionNotAllowed(_("This revision no longer exists or is not a revision."))
        # Always the live row first, then the revision, like start_revision: no deadlock.
        live = lock_with_beneficiary(live_pk)
        locked = Campaign.objects.select_for_update().get(pk=revision.pk, status=Status.REVISION)
        if CampaignEditor.objects.filter(campaign=locked, user_id=by.pk).exists():
            raise FourEyesViolation(_("You changed this revision: someone who did not must approve it."))
        if seen != revision_digest(locked):
            raise FourEyesViolation(_("The revision changed after you opened it. Read the changes again."))
        if is_at_risk(live) and not by.has_perm("campaigns.approve_risky_campaign"):
            raise FourEyesViolation(_("The beneficiary is at risk: an admin must approve this change."))
        problems = publication_problems(locked) + _needs_below_their_floor(locked, live.currency)
        if problems:
            raise CampaignNotReady(problems)
        # Removals first: a need that donations count on stops the approval before anything
        # is written (parler's shared translation cache is not rolled back with the database).
        _remove_dropped(locked.needs.all(), Need, live)
        _remove_dropped(locked.updates.all(), Update, live)
        old_cover = live.cover.name
        for field in CAMPAIGN_FIELDS:
            setattr(live, field, getattr(locked, field))
        live.updated_at = timezone.now()
        live.save(update_fields=[*CAMPAIGN_FIELDS, "updated_at"])
        _copy_translations(locked, live)
        _copy_children(locked.needs.all(), live.needs.all(), Need, NEED_FIELDS, live)
        _copy_children(locked.updates.all(), live.updates.all(), Update, UPDATE_FIELDS, live)
        audit(by, "campaign.revision_approve", live, fields=[])
        locked.delete()
        if old_cover and old_cover != live.cover.name:
            storage = live.cover.storage
            transaction.on_commit(lambda: delete_cover(storage, old_cover))
    return Campaign.objects.get(pk=live.pk)


def _needs_below_their_floor(revision: Campaign, currency: str) -> list[str]:
    """A payout may have been made since the revision's amounts were typed: checked again here."""
    amounts = dict(revision.needs.exclude(replaces=None).values_list("replaces_id", "amount"))
    return floor_problems(amounts, currency)


def _remove_dropped(copies, model, live) -> None:
    """Delete the live needs or updates the revision no longer has."""
    kept = [pk for pk in copies.values_list("replaces_id", flat=True) if pk is not None]
    try:
        with transaction.atomic():
            for dropped in model.objects.filter(campaign=live).exclude(pk__in=kept):
                dropped.delete()
    except ProtectedError:
        raise CampaignNotReady([_("A need that donations or payouts count on cannot be removed.")]) from None


def _copy_children(copies, originals, model, fields, live) -> None:
    # After _remove_dropped, every original a copy replaces still exists (replaces is SET_NULL).
    by_pk = {original.pk: original for original in originals}
    for copy in copies.order_by("id"):
        values = {f: getattr(copy, f) for f in fields}
        target = by_pk.get(copy.replaces_id)
        if target is not None:
            for name, value in values.items():
                setattr(target, name, value)
            target.save(update_fields=list(values))
        else:
            target = model.objects.create(campaign=live, **values)
        _copy_translations(copy, target)


# Shared text: display names and notes --------------------------------------------------------


def display_name_is_public(beneficiary: Beneficiary) -> bool:
    """Whether a page shows (or a reviewer is reading) this person's display name."""
    return beneficiary.campaigns.exclude(status=Status.DRAFT).exists()


def stage_text(target: Beneficiary | Note, language: str, values: dict[str, str], *, by: User) -> StagedText:
    """Propose new text for a display name or a note in one language; the live text stays."""
    kind = StagedText.Kind.DISPLAY_NAME if isinstance(target, Beneficiary) else StagedText.Kind.NOTE
    key = {"beneficiary": target} if kind == StagedText.Kind.DISPLAY_NAME else {"note": target}
    with transaction.atomic():
        type(target).objects.select_for_update().get(pk=target.pk)
        previous = StagedText.objects.filter(language_code=language, **key).first()
        editors = list(previous.editors.all()) if previous else []
        if previous is not None:
            previous.delete()
        staged = StagedText.objects.create(kind=kind, language_code=language, values=values, **key)
        staged.editors.set({*editors, by})
        audit(by, f"{kind}.stage", target, fields=sorted(values))
    return staged


def staged_diff(staged: StagedText) -> list[str]:
    target = staged.target
    old, new = [], []
    for name, value in sorted(staged.values.items()):
        current = target.safe_translation_getter(name, language_code=staged.language_code, default="") or ""
        old += [f"{name}: {line}" for line in str(current).splitlines() or [""]]
        new += [f"{name}: {line}" for line in str(value).splitlines() or [""]]
    return list(difflib.unified_diff(old, new, "live", "proposed", lineterm="", n=2))


def approve_staged(staged: StagedText, *, by: User) -> None:
    """A second person puts a staged display name or note text live."""
    _may_approve(by)
    with transaction.atomic():
        try:
            locked = StagedText.objects.select_for_update().get(pk=staged.pk)
        except StagedText.DoesNotExist:
            raise TransitionNotAllowed(_("This change was replaced or approved already.")) from None
        if locked.editors.filter(pk=by.pk).exists():
            raise FourEyesViolation(_("You proposed this change: someone else must approve it."))
        target = type(locked.target).objects.select_for_update().get(pk=locked.target.pk)
        if isinstance(target, Beneficiary) and target.at_risk and not by.has_perm("campaigns.approve_risky_campaign"):
            raise FourEyesViolation(_("The beneficiary is at risk: an admin must approve this change."))
        target.set_current_language(locked.language_code)
        for name, value in locked.values.items():
            setattr(target, name, value)
        try:
            target.save()
        except IntegrityError:
            raise TransitionNotAllowed(_("The change could not be saved.")) from None
        audit(by, f"{locked.kind}.approve", target, fields=sorted(locked.values))
        locked.delete()


def discard_staged(staged: StagedText, *, by: User) -> None:
    _may_approve(by)
    with transaction.atomic():
        locked = StagedText.objects.select_for_update().filter(pk=staged.pk).first()
        if locked is not None:
            audit(by, f"{locked.kind}.discard", locked.target, fields=sorted(locked.values))
            locked.delete()


def stage_update(edited: Update, revision: Campaign, *, language: str) -> Update:
    """An edit to a live campaign's update, made in the admin, goes to the revision's copy of
    it (created if the revision has none); the live update is not saved."""
    copy = Update.objects.filter(campaign=revision, replaces_id=edited.pk).first()
    if copy is None:
        copy = Update.objects.create(campaign=revision, replaces_id=edited.pk, published_on=edited.published_on)
        _copy_translations(edited, copy)
    copy.published_on = edited.published_on
    copy.set_current_language(language)
    for name in _translated_fields(Update):
        setattr(copy, name, edited.safe_translation_getter(name, language_code=language, default="") or "")
    copy.save()
    return copy


def save_update(update: Update, *, by: User, change: bool) -> bool:
    """Save an update as staff wrote it. An update of a live campaign is staged in the
    campaign's revision (which the public page ignores until someone else approves it) and True
    is returned; a campaign in review is frozen; whoever wrote it may not approve it."""
    with transaction.atomic():
        campaign = Campaign.objects.get(pk=update.campaign_id)
        if campaign.status == Status.IN_REVIEW or (
            change and Update.objects.get(pk=update.pk).campaign_id != update.campaign_id
        ):
            raise PermissionDenied("The update's campaign is in review, or the update names another campaign.")
        if campaign.status not in PUBLIC_STATUSES:
            update.save()
            record_editor(campaign, by)
            return False
        revision = start_revision(campaign, by=by)
        if change:
            stage_update(update, revision, language=update.get_current_language())
        else:
            update.campaign = revision
            update.save()
        record_editor(revision, by)
        return True
