"""What an approved case becomes: a draft campaign, or a grant from a programme fund.

``create_campaign`` opens the case with the unlocked key and makes a DRAFT personal campaign
through the campaigns app's own rules: a beneficiary whose private data (real name, contacts,
verification notes) is encrypted the campaigns way (``zbor.campaigns.private``), one need for
the approved amount described with what the applicant asked for, and a story draft from what
they wrote, for an editor to rewrite. It is never public until an editor sends it to review and
a second person approves it (docs/back-office.md). The beneficiary is marked at risk unless the
caseworker says otherwise (publishing then needs an admin too) and has no display name or
consent yet: the editor decides them with the person.

The story draft and the need's description are campaign text: plain in the database and
readable by editors, unlike the case. The caseworker sees them before creating.

``grant_from_fund`` asks for a payout from a need of a programme fund
(``zbor.disbursements.services.request_payout``) whose purpose names the case code; finance's
usual four-eyes approval and payment follow.

Both record what came of the case on it (``Case.campaign``, ``Case.payout``), audited.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from zbor.accounts.services import audit, require
from zbor.campaigns import private
from zbor.campaigns import services as campaign_services
from zbor.campaigns.models import Beneficiary, Campaign, Category, Kind, Need, Status
from zbor.disbursements import services as payouts
from zbor.disbursements.exceptions import PayoutError
from zbor.disbursements.models import Payout

from .models import Case, CaseStatus
from .work import CHANGE, NOT_YOURS, CaseworkError, read_case

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from nacl.public import PrivateKey


@dataclass(frozen=True)
class CampaignDraft:
    """What ``create_campaign`` would write, for the caseworker to see before creating."""

    real_name: str
    contacts: str
    verification_notes: str
    need: str
    story: str


def _core(answers: dict[str, Any], key: str) -> str:
    """One answer of the common core (zbor/cases/core.py: ``answers["core"]``), or "" when the
    applicant left an optional one out."""
    core = answers.get("core")
    value = (core if isinstance(core, dict) else answers).get(key)
    return str(value).strip() if value and not isinstance(value, (dict, list)) else ""


def _approved(case: Case) -> Case:
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.status != CaseStatus.APPROVED or locked.approved_amount is None:
        raise CaseworkError(_("Only an approved case can become a campaign or a grant."))
    if locked.purged_at is not None:
        raise CaseworkError(_("This case was purged."))
    return locked


def campaign_draft(case: Case, *, by: User, key: PrivateKey | None) -> CampaignDraft:
    """The draft a campaign would start from (opens the case: audited as a read)."""
    content = read_case(case, by=by, key=key)
    answers = content.answers
    checks = "\n".join(
        f"{item}: {entry.by} {entry.at:%Y-%m-%d}" + (f" — {entry.text}" if entry.text else "")
        for item, entries in content.checks.items()
        for entry in entries
    )
    need = _core(answers, "needs") or str(case.programme)
    story = "\n\n".join(part for part in (_core(answers, "story"), _core(answers, "needs")) if part)
    return CampaignDraft(
        real_name=_core(answers, "name"),
        contacts="\n".join(
            p
            for p in (
                " ".join(filter(None, (_core(answers, "contact_channel"), _core(answers, "contact")))),
                _core(answers, "location"),
            )
            if p
        ),
        verification_notes=_("Verified in case %(code)s.") % {"code": case.code} + ("\n" + checks if checks else ""),
        need=need[:500],
        story=story,
    )


def create_campaign(case: Case, *, by: User, key: PrivateKey | None, at_risk: bool = True) -> Campaign:
    """Make the draft campaign of an approved case (see the module's docstring)."""
    require(by, CHANGE, NOT_YOURS)
    require(by, "campaigns.add_campaign", _("Creating a campaign needs the editor's role as well."))
    draft = campaign_draft(case, by=by, key=key)
    with transaction.atomic():
        locked = _approved(case)
        if locked.campaign_id is not None:
            raise CaseworkError(_("A campaign was already made from this case."))
        language = locked.language if locked.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        beneficiary = Beneficiary.objects.create(reference=locked.code, at_risk=at_risk)
        audit(by, "beneficiary.add", beneficiary, fields=["reference", "at_risk"])
        private.write_private(
            beneficiary,
            by=by,
            real_name=draft.real_name,
            contacts=draft.contacts,
            verification_notes=draft.verification_notes,
        )
        campaign = Campaign(
            slug=f"help-{secrets.token_hex(4)}",
            kind=Kind.PERSONAL,
            beneficiary=beneficiary,
            category=_category(locked),
            currency=locked.currency,
            original_language=language,
        )
        campaign_services.save_campaign(campaign, by=by, edited=True)
        campaign.create_translation(
            language,
            title=_("Draft from case %(code)s") % {"code": locked.code},
            summary="",
            story=draft.story,
        )
        need = Need.objects.create(campaign=campaign, position=0, amount=locked.approved_amount)
        need.create_translation(language, description=draft.need)
        audit(by, "campaign.add", campaign, fields=["beneficiary", "needs", "story"])
        locked.campaign = campaign
        locked.save(update_fields=["campaign", "updated_at"])
        audit(by, "case.campaign", locked, fields=["campaign"])
    case.refresh_from_db()
    assert campaign.status == Status.DRAFT
    return campaign


def _category(case: Case) -> str:
    slug = case.programme.slug
    for value in Category.values:
        if value in slug or slug in value:
            return value
    return Category.OTHER


def fund_needs(case: Case):
    """The needs of programme funds a grant for ``case`` may come from: funds in its currency
    that are live (published or funded), with their campaign."""
    return (
        Need.objects.filter(
            campaign__kind=Kind.FUND,
            campaign__currency=case.currency,
            campaign__status__in=(Status.PUBLISHED, Status.FUNDED),
        )
        .select_related("campaign")
        .prefetch_related("translations", "campaign__translations")
        .order_by("campaign_id", "position", "pk")
    )


def grant_from_fund(case: Case, *, need: Need, amount: int, channel: str, recipient: str, by: User) -> Payout:
    """Ask for a payout of ``amount`` from a programme fund's ``need`` for the approved case; its
    purpose names the case code. Finance approves (a second person) and pays it as any payout."""
    require(by, CHANGE, NOT_YOURS)
    require(by, "disbursements.add_payout", _("Asking for a payout needs the finance role as well."))
    if need.campaign.kind != Kind.FUND:
        raise CaseworkError(_("Choose a need of a programme fund."))
    if not recipient.strip():
        raise CaseworkError(_("Say who receives the money and how."))
    with transaction.atomic():
        locked = _approved(case)
        if locked.payout_id is not None:
            raise CaseworkError(_("A grant was already asked for this case."))
        if need.campaign.currency != locked.currency:
            raise CaseworkError(_("Choose a fund in the case's currency."))
        if amount > (locked.approved_amount or 0):
            raise CaseworkError(_("A grant cannot be larger than the approved amount."))
        try:
            payout = payouts.request_payout(
                need,
                amount=amount,
                channel=channel,
                recipient=recipient.strip(),
                purpose=_("Grant for case %(code)s") % {"code": locked.code},
                by=by,
            )
        except PayoutError as exc:
            raise CaseworkError(str(exc)) from None
        locked.payout = payout
        locked.save(update_fields=["payout", "updated_at"])
        audit(by, "case.grant", locked, fields=["payout"])
    case.refresh_from_db()
    return payout


def close_case(case: Case, *, by: User) -> Case:
    """An approved case whose campaign or grant exists is closed: from then on it keeps only
    what they need (the campaign and payout hold their own copies), and the daily purge
    removes its content after ``ZBOR_CASE_RETENTION_DAYS`` (zbor.cases.retention)."""
    require(by, CHANGE, NOT_YOURS)
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.status != CaseStatus.APPROVED:
            raise CaseworkError(_("Only an approved case can be closed."))
        if locked.campaign_id is None and locked.payout_id is None:
            raise CaseworkError(_("Create the campaign or the grant first."))
        locked.status = CaseStatus.CLOSED
        locked.save(update_fields=["status", "updated_at"])
        audit(by, "case.close", locked, fields=["status"])
    case.refresh_from_db()
    return case
