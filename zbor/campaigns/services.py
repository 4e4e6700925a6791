"""Business actions on campaigns. Views, admin and commands all call these.

Each runs in one transaction and locks the campaign row first, so two staff members clicking
at once cannot both move it.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import get_language_info
from django.utils.translation import gettext as _

from zbor.accounts.services import audit
from zbor.images import delete_cover, store_cover_variants
from zbor.logs import event

from . import markdown
from .exceptions import CampaignNotReady, FourEyesViolation, TransitionNotAllowed
from .funds import fund_problems
from .models import PUBLIC_STATUSES, Beneficiary, Campaign, CampaignApproval, CampaignEditor, Status
from .selectors import existing_note_keys

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

# Which status may follow which. In review → published happens only through
# approve_publication (four-eyes); any public status can be withdrawn in an emergency.
TRANSITIONS: dict[str, set[str]] = {
    Status.DRAFT: {Status.IN_REVIEW},
    Status.IN_REVIEW: {Status.DRAFT, Status.PUBLISHED},
    Status.PUBLISHED: {Status.FUNDED, Status.CLOSED, Status.WITHDRAWN},
    Status.FUNDED: {Status.PUBLISHED, Status.CLOSED, Status.WITHDRAWN},
    Status.CLOSED: {Status.WITHDRAWN},
    Status.WITHDRAWN: {Status.DRAFT},
    # A staged copy of a live campaign moves only through zbor.campaigns.revisions.
    Status.REVISION: set(),
}


def missing_languages(campaign: Campaign) -> list[str]:
    """The site's languages the campaign is not complete in: a title, summary, story, the place
    (when the original names one) and every need's description. Reads prefetched
    ``translations`` and ``needs__translations`` when the caller has them (the admin's list)."""
    translations = {t.language_code: t for t in campaign.translations.all()}
    original = translations.get(campaign.original_language)
    fields = ["title", "summary", "story"] + (["location"] if original and original.location.strip() else [])
    needs = [
        {t.language_code for t in need.translations.all() if t.description.strip()} for need in campaign.needs.all()
    ]
    missing = []
    for code, _name in settings.LANGUAGES:
        text = translations.get(code)
        complete = text is not None and all(getattr(text, f).strip() for f in fields)
        if not complete or any(code not in described for described in needs):
            missing.append(code)
    return missing


def _required_language_problems(campaign: Campaign) -> list[str]:
    """A message for each language ticked as required before review that is not complete."""
    problems: list[str] = []
    required = [code for code in campaign.required_languages or [] if code in dict(settings.LANGUAGES)]
    if required:
        missing = set(missing_languages(campaign))
        for code in required:
            if code in missing:
                problems.append(
                    _(
                        "This campaign must be complete in %(language)s before review: add the "
                        "title, summary, place, story and every need in %(language)s, or untick it "
                        "under “languages required before review”."
                    )
                    % {"language": get_language_info(code)["name_translated"]}
                )
    return problems


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
    if not campaign.is_fund:  # a programme fund has no beneficiary, and its needs are optional
        problems.extend(_personal_problems(campaign))
    problems.extend(message for messages in fund_problems(campaign).values() for message in messages)
    texts = [t.story for t in translations.values()]
    for update in campaign.updates.prefetch_related("translations"):
        texts.extend(t.body for t in update.translations.all())
    keys = {key for text in texts for key in markdown.note_keys(text)}
    known = existing_note_keys(keys)
    for text in texts:
        for error in markdown.note_reference_errors(text, known):
            if error not in problems:
                problems.append(error)
    problems.extend(_required_language_problems(campaign))
    return problems


def _personal_problems(campaign: Campaign) -> list[str]:
    problems = []
    if not campaign.needs.exists():
        problems.append(_("The campaign needs at least one need with an amount."))
    beneficiary = campaign.beneficiary
    if beneficiary is None:
        return problems  # fund_problems says so
    if not beneficiary.consent_recorded:
        problems.append(_("Record the beneficiary's consent to the display name and the campaign first."))
    if not beneficiary.safe_translation_getter("display_name", any_language=True):
        problems.append(_("Decide the beneficiary's display name (a real name or a pseudonym) first."))
    return problems


def _transition(campaign: Campaign, to: str, *, by: User | None, action: str, check_ready: bool = False) -> Campaign:
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if to not in TRANSITIONS[locked.status] or (to == Status.FUNDED and locked.is_fund):
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
        if to == Status.IN_REVIEW:
            locked.submitted_by = by if getattr(by, "pk", None) else None
            locked.review_round += 1
            fields += ["submitted_by", "review_round"]
        locked.save(update_fields=fields)
        audit(by, action, locked, fields=["status"], label="zbor")
    campaign.refresh_from_db()
    return campaign


def submit_for_review(campaign: Campaign, *, by: User | None) -> Campaign:
    """Draft → in review, once the safety checklist holds: title, story, needs, note references,
    the beneficiary's consent and display name. (Covers are stripped of metadata on upload.)"""
    return _transition(campaign, Status.IN_REVIEW, by=by, action="campaign.submit", check_ready=True)


def return_to_draft(campaign: Campaign, *, by: User | None) -> Campaign:
    return _transition(campaign, Status.DRAFT, by=by, action="campaign.return_to_draft")


def is_at_risk(campaign: Campaign) -> bool:
    """Its beneficiary is at risk (a programme fund has none): publishing needs an admin too."""
    return campaign.beneficiary is not None and campaign.beneficiary.at_risk


def may_approve(user: User | AnonymousUser) -> bool:
    """Whether ``user``'s role approves campaigns and staged changes (editors; admins for
    beneficiaries at risk). Who may not approve a given change is decided where it is approved."""
    return user.has_perm("campaigns.approve_campaign") or user.has_perm("campaigns.approve_risky_campaign")


def record_editor(campaign: Campaign, user: User | None) -> None:
    """``user`` changed this draft or revision: they can no longer approve it."""
    if user is not None and user.pk:
        CampaignEditor.objects.get_or_create(campaign=campaign, user=user)


def lock_with_beneficiary(pk: int) -> Campaign:
    """The campaign's row locked, then its beneficiary's (a programme fund has none), for
    decisions that read whether the beneficiary is at risk. Two statements: PostgreSQL cannot
    lock the nullable side of the outer join one ``select_related`` would make."""
    campaign = Campaign.objects.select_for_update(of=("self",)).select_related("beneficiary").get(pk=pk)
    if campaign.beneficiary_id is not None:
        list(Beneficiary.objects.select_for_update().filter(pk=campaign.beneficiary_id).values_list("pk"))
    return campaign


def save_campaign(campaign: Campaign, *, by: User, edited: bool) -> None:
    """Save a draft or a revision as staff changed it (the admin's form), with the rules of an edit:

    - a campaign in review is frozen (what the second person approves is what goes public), and a
      live one is changed only through its revision (``zbor.campaigns.revisions``);
    - whoever ``edited`` it may no longer approve it (four eyes);
    - a cover replaced or cleared is deleted once the change commits, unless it is the live
      campaign's (a revision shares its cover): it may be the one that identified someone.

    In the caller's transaction if there is one (the admin's, which also writes its audit row)."""
    with transaction.atomic():
        if campaign.pk:
            stored = Campaign.objects.select_for_update().get(pk=campaign.pk)
            if stored.status == Status.IN_REVIEW or stored.status in PUBLIC_STATUSES:
                raise PermissionDenied("A campaign in review or live is changed only through a revision.")
            old_cover = stored.cover.name
        else:
            old_cover = ""
        campaign.save()
        if edited:
            record_editor(campaign, by)
        live = campaign.revision_of if campaign.status == Status.REVISION else None
        live_cover = live.cover.name if live is not None else ""
        if campaign.cover.name and campaign.cover.name != old_cover:
            # Every size is made now, once, so that no page ever resizes a picture.
            store_cover_variants(campaign.cover.storage, campaign.cover.name)
        if old_cover and old_cover != campaign.cover.name and old_cover != live_cover:
            storage = campaign.cover.storage
            transaction.on_commit(lambda: delete_cover(storage, old_cover))


def approve_publication(campaign: Campaign, *, by: User, no_identifying_details: bool) -> bool:
    """A second person approves a campaign in review; True when that publishes it.

    The approver confirms that nothing in it identifies the person (no exact address, dates or
    places). Nobody approves a campaign they sent to review, nobody approves twice in a round
    (a unique constraint, so two clicks racing count once), and a campaign whose beneficiary is
    at risk needs two approvals, one of them an admin's. All under the campaign's row lock.
    """
    if not may_approve(by):
        raise PermissionDenied("Your role may not approve campaigns.")
    if not no_identifying_details:
        raise CampaignNotReady(
            [_("Confirm that nothing in the campaign identifies the person: no exact address, dates or places.")]
        )
    with transaction.atomic():
        locked = lock_with_beneficiary(campaign.pk)
        if locked.status != Status.IN_REVIEW:
            raise TransitionNotAllowed(_("Only a campaign in review can be approved."))
        if locked.submitted_by_id == by.pk:
            raise FourEyesViolation(_("You sent this campaign to review: someone else must approve it."))
        if CampaignEditor.objects.filter(campaign=locked, user_id=by.pk).exists():
            raise FourEyesViolation(_("You changed this campaign: someone who did not must approve it."))
        problems = publication_problems(locked)
        if problems:
            raise CampaignNotReady(problems)
        try:
            with transaction.atomic():
                CampaignApproval.objects.create(
                    campaign=locked,
                    review_round=locked.review_round,
                    approver=by,
                    as_admin=by.has_perm("campaigns.approve_risky_campaign"),
                )
        except IntegrityError:
            raise FourEyesViolation(_("You have already approved this campaign.")) from None
        audit(by, "campaign.approve", locked, fields=["status"])
        approvals = CampaignApproval.objects.filter(campaign=locked, review_round=locked.review_round).exclude(
            approver_id=locked.submitted_by_id
        )
        if not approvals.exists():
            return False
        if is_at_risk(locked) and (approvals.count() < 2 or not approvals.filter(as_admin=True).exists()):
            return False  # at risk: a second person and an admin, two different people
        locked.status = Status.PUBLISHED
        locked.published_at = locked.published_at or timezone.now()
        locked.save(update_fields=["status", "published_at", "updated_at"])
        CampaignEditor.objects.filter(campaign=locked).delete()  # approved: a new round starts
        audit(by, "campaign.publish", locked, fields=["status"])
        transaction.on_commit(partial(event, "campaign.published", campaign_id=locked.pk))
    campaign.refresh_from_db()
    return True


def reopen_campaign(campaign: Campaign, *, by: User | None) -> Campaign:
    """Funded → published again (staff reopen it, e.g. after adding a need)."""
    if campaign.status != Status.FUNDED:
        raise TransitionNotAllowed(_("Only a funded campaign can be reopened."))
    return _transition(campaign, Status.PUBLISHED, by=by, action="campaign.reopen")


def mark_funded(campaign: Campaign, *, by: User | None) -> Campaign:
    """Published → funded. A programme fund is never funded: the booking's automatic call
    (``by`` None, when its needs are met) leaves it open; staff asking get TransitionNotAllowed."""
    if campaign.is_fund and by is None:
        return campaign
    return _transition(campaign, Status.FUNDED, by=by, action="campaign.funded")


def close_campaign(campaign: Campaign, *, by: User | None) -> Campaign:
    return _transition(campaign, Status.CLOSED, by=by, action="campaign.close")


def emergency_unpublish(campaign: Campaign, *, by: User, purge_private: bool = False) -> Campaign:
    """Take a campaign offline at once (404 everywhere public); optionally purge its beneficiary's
    private data for good. One transaction, audited."""
    from .private import purge_private as purge

    if not by.has_perm("campaigns.emergency_unpublish"):
        raise PermissionDenied("Your role may not take campaigns offline.")
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status == Status.REVISION:
            raise TransitionNotAllowed(_("A revision is never public: take its campaign offline instead."))
        if locked.status != Status.WITHDRAWN:
            locked.status = Status.WITHDRAWN
            locked.save(update_fields=["status", "updated_at"])
        audit(by, "campaign.emergency_unpublish", locked, fields=["status"])
        if purge_private and locked.beneficiary is not None:
            purge(locked.beneficiary, by=by)
    campaign.refresh_from_db()
    return campaign


def bring_to_status(campaign: Campaign, status: str, *, by: User | None, approver=None) -> Campaign:
    """Walk a draft through the ordinary steps, four-eyes included, until it reaches ``status``
    (demo data, tests). ``approver`` is the second person publication needs."""
    status = Status(status)
    if status == Status.DRAFT:
        return campaign
    submit_for_review(campaign, by=by)
    if status == Status.IN_REVIEW:
        return campaign
    approve_publication(campaign, by=approver, no_identifying_details=True)
    if status == Status.FUNDED:
        mark_funded(campaign, by=by)
    elif status == Status.CLOSED:
        close_campaign(campaign, by=by)
    return campaign
