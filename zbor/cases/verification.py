"""The checklist and the decision on a case, with four eyes.

    identity    confirmed by two different caseworkers
    documents   seen
    story       checked with a second source
    risk        assessed: still in the country? relatives at risk?

Each tick is a ``CaseCheck`` (one per person and item: a unique constraint, so nobody confirms
identity twice). A decision — approve with an amount, or decline with a reason (sealed) — is
proposed by one caseworker and confirmed by another (a check constraint: never the proposer).
Approving needs the whole checklist; declining does not. All under the case's row lock, audited
with field names only.

    CaseworkError   a step the case's state or the four-eyes rule does not allow (a message
                    for the caseworker)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from zbor.accounts.services import audit, require
from zbor.money import Money, format_money

from .models import Case, CaseCheck, CaseDecision, CaseStatus, CheckItem, DecisionStatus, Outcome
from .sealing import seal_text
from .work import CHANGE, DECIDE, NOT_YOURS, CaseworkError, _locked_open_case, start_verification

if TYPE_CHECKING:
    from django.contrib.auth.models import User

#: How many different caseworkers each item needs.
NEEDED = {CheckItem.IDENTITY: 2, CheckItem.DOCUMENTS: 1, CheckItem.STORY: 1, CheckItem.RISK: 1}


def check_counts(case: Case) -> dict[str, int]:
    """item → how many different caseworkers ticked it."""
    counts = dict(case.checks.values_list("item").annotate(n=Count("by", distinct=True)).order_by())
    return {item: counts.get(item, 0) for item in NEEDED}


def missing_checks(case: Case) -> list[str]:
    """The checklist's items not yet done, in words."""
    counts = check_counts(case)
    return [str(CheckItem(item).label) for item, needed in NEEDED.items() if counts[item] < needed]


def confirm_check(case: Case, *, item: str, note: str = "", by: User) -> CaseCheck:
    """``by`` ticks ``item``; a note, if any, is sealed. Refused when they ticked it already."""
    require(by, CHANGE, NOT_YOURS)
    if item not in NEEDED:
        raise CaseworkError(_("Choose an item of the checklist."))
    with transaction.atomic():
        locked = _locked_open_case(case)
        try:
            with transaction.atomic():
                check = CaseCheck.objects.create(
                    case=locked, item=item, by=by, note=seal_text(note.strip()) if note.strip() else ""
                )
        except IntegrityError:
            if item == CheckItem.IDENTITY:
                raise CaseworkError(
                    _("You have already confirmed this person's identity: a second, different caseworker must.")
                ) from None
            raise CaseworkError(_("You have already ticked this item.")) from None
        start_verification(locked)
        audit(by, "case.check", locked, fields=[f"check:{item}", *(["note"] if note.strip() else [])])
    case.refresh_from_db()
    return check


def propose_decision(
    case: Case, *, outcome: str, amount: int | None = None, reason: str = "", by: User
) -> CaseDecision:
    """Propose approving (with an amount, in minor units of the case's currency) or declining
    (with a reason, sealed). A second caseworker confirms it (``confirm_decision``)."""
    require(by, DECIDE, NOT_YOURS)
    if outcome == Outcome.APPROVE:
        if amount is None or amount <= 0:
            raise CaseworkError(_("Enter the amount to approve."))
    elif outcome == Outcome.DECLINE:
        amount = None
        if not reason.strip():
            raise CaseworkError(_("Say why the case is declined (only caseworkers read it)."))
    else:
        raise CaseworkError(_("Choose approve or decline."))
    with transaction.atomic():
        locked = _locked_open_case(case)
        if outcome == Outcome.APPROVE:
            missing = missing_checks(locked)
            if missing:
                raise CaseworkError(
                    _("Finish the checklist before approving: %(items)s.") % {"items": ", ".join(missing)}
                )
            largest = locked.programme.max_amount
            if largest is not None and amount is not None and amount > largest:
                limit = format_money(Money(largest, locked.programme.currency), get_language() or "en")
                raise CaseworkError(_("The programme gives at most %(amount)s.") % {"amount": limit})
        if locked.decisions.filter(status=DecisionStatus.PROPOSED).exists():
            raise CaseworkError(_("A decision is already proposed: confirm or withdraw it first."))
        decision = CaseDecision.objects.create(
            case=locked,
            outcome=outcome,
            amount=amount,
            reason=seal_text(reason.strip()) if reason.strip() else "",
            proposed_by=by,
        )
        start_verification(locked)
        audit(
            by, "case.decision.propose", locked, fields=["outcome", "amount", *(["reason"] if reason.strip() else [])]
        )
    case.refresh_from_db()
    return decision


def confirm_decision(decision: CaseDecision, *, by: User) -> Case:
    """A second caseworker confirms: the case becomes approved (with the amount) or declined."""
    require(by, DECIDE, NOT_YOURS)
    with transaction.atomic():
        locked_case = _locked_open_case(decision.case)
        locked = CaseDecision.objects.select_for_update().get(pk=decision.pk)
        if locked.status != DecisionStatus.PROPOSED:
            raise CaseworkError(_("Only a proposed decision can be confirmed."))
        if locked.proposed_by_id == by.pk:
            raise CaseworkError(_("You proposed this decision: a second, different caseworker must confirm it."))
        if locked.outcome == Outcome.APPROVE and missing_checks(locked_case):
            raise CaseworkError(_("The checklist is no longer complete."))
        now = timezone.now()
        locked.status, locked.confirmed_by, locked.confirmed_at = DecisionStatus.CONFIRMED, by, now
        locked.save(update_fields=["status", "confirmed_by", "confirmed_at"])
        approve = locked.outcome == Outcome.APPROVE
        locked_case.status = CaseStatus.APPROVED if approve else CaseStatus.DECLINED
        locked_case.decided_at = now
        locked_case.approved_amount = locked.amount if approve else None
        locked_case.save(update_fields=["status", "decided_at", "approved_amount", "updated_at"])
        audit(by, "case.decision.confirm", locked_case, fields=["status", "decided_at", "approved_amount"])
    decision.refresh_from_db()
    return locked_case


def withdraw_decision(decision: CaseDecision, *, by: User) -> CaseDecision:
    """Anyone who may decide withdraws a proposal before it is confirmed."""
    require(by, DECIDE, NOT_YOURS)
    with transaction.atomic():
        _locked_open_case(decision.case)
        locked = CaseDecision.objects.select_for_update().get(pk=decision.pk)
        if locked.status != DecisionStatus.PROPOSED:
            raise CaseworkError(_("Only a proposed decision can be withdrawn."))
        locked.status = DecisionStatus.WITHDRAWN
        locked.save(update_fields=["status"])
        audit(by, "case.decision.withdraw", locked.case, fields=["decision"])
    decision.refresh_from_db()
    return decision
