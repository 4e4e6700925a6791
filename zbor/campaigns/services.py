"""Business actions on campaigns. Views, admin and commands all call these.

Each runs in one transaction and locks the campaign row first, so two staff members clicking
at once cannot both move it.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import markdown
from .exceptions import CampaignNotReady, TransitionNotAllowed
from .models import Campaign, Status
from .selectors import existing_note_keys

# Which status may follow which. Four-eyes rules on top of these arrive with the back office.
TRANSITIONS: dict[str, set[str]] = {
    Status.DRAFT: {Status.IN_REVIEW},
    Status.IN_REVIEW: {Status.DRAFT, Status.PUBLISHED},
    Status.PUBLISHED: {Status.FUNDED, Status.CLOSED},
    Status.FUNDED: {Status.PUBLISHED, Status.CLOSED},
    Status.CLOSED: set(),
}


def publication_problems(campaign: Campaign) -> list[str]:
    """What stops a campaign from going public, in words for staff; empty when it is ready."""
    problems = []
    original = campaign.original_language
    translations = {t.language_code: t for t in campaign.translations.all()}
    main = translations.get(original)
    if main is None or not main.title.strip():
        problems.append(_("The campaign needs a title in its original language."))
    if main is None or not main.story.strip():
        problems.append(_("The campaign needs a story in its original language."))
    needs = list(campaign.needs.all())
    if not needs:
        problems.append(_("The campaign needs at least one need with an amount."))
    texts = [t.story for t in translations.values()]
    for update in campaign.updates.prefetch_related("translations"):
        texts.extend(t.body for t in update.translations.all())
    keys = {key for text in texts for key in markdown.note_keys(text)}
    known = existing_note_keys(keys)
    for text in texts:
        for error in markdown.note_reference_errors(text, known):
            if error not in problems:
                problems.append(error)
    return problems


def _transition(campaign: Campaign, to: str, *, check_ready: bool = False) -> Campaign:
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if to not in TRANSITIONS[locked.status]:
            raise TransitionNotAllowed(
                _("A campaign that is “%(from)s” cannot become “%(to)s”.")
                % {"from": Status(locked.status).label, "to": Status(to).label}
            )
        if check_ready:
            problems = publication_problems(locked)
            if problems:
                raise CampaignNotReady(problems)
        now = timezone.now()
        locked.status = to
        fields = ["status", "updated_at"]
        if to == Status.PUBLISHED and locked.published_at is None:
            locked.published_at = now
            fields.append("published_at")
        if to == Status.CLOSED:
            locked.closed_at = now
            fields.append("closed_at")
        locked.save(update_fields=fields)
    campaign.refresh_from_db()
    return campaign


def submit_for_review(campaign: Campaign, *, by) -> Campaign:
    """Draft → in review, once it has a title, a story and needs."""
    return _transition(campaign, Status.IN_REVIEW, check_ready=True)


def return_to_draft(campaign: Campaign, *, by) -> Campaign:
    return _transition(campaign, Status.DRAFT)


def publish_campaign(campaign: Campaign, *, by) -> Campaign:
    """In review → published, or funded → published again (staff reopen it, e.g. after adding a need)."""
    return _transition(campaign, Status.PUBLISHED, check_ready=True)


def mark_funded(campaign: Campaign, *, by) -> Campaign:
    return _transition(campaign, Status.FUNDED)


def close_campaign(campaign: Campaign, *, by) -> Campaign:
    return _transition(campaign, Status.CLOSED)


def bring_to_status(campaign: Campaign, status: str, *, by) -> Campaign:
    """Walk a draft through the ordinary steps until it reaches ``status`` (demo data, tests)."""
    steps = {
        Status.DRAFT: [],
        Status.IN_REVIEW: [submit_for_review],
        Status.PUBLISHED: [submit_for_review, publish_campaign],
        Status.FUNDED: [submit_for_review, publish_campaign, mark_funded],
        Status.CLOSED: [submit_for_review, publish_campaign, close_campaign],
    }[Status(status)]
    for step in steps:
        step(campaign, by=by)
    return campaign
