"""Moving money between needs or campaigns, with four eyes: one person in finance requests,
another approves, and the approval books it.

A place is a need, or a campaign's money beyond its goal (``need`` None). Worked example — €300
moved from need #7 of campaign #2 to campaign #5's money beyond its goal, group ``move:4:approved``::

    need:7  →  campaign:5:unallocated   300.00   (move)

What the public sees afterwards (docs/finance.md, "Moving money"):

- Every public figure is read from the accounts, so it counts the money where it is now. A
  campaign's *collected* is what it holds plus what it paid out: moved between its own needs it
  does not change, only the two needs' figures do; moved to another campaign it goes down here
  and up there, by the same amount, so the foundation's total is unchanged. *Paid out* never
  changes, and *held* (collected minus paid out) stays what the campaign really holds.
- So that a donor who gave to the first campaign is not left wondering why its total fell, its
  page says how much the foundation moved to other campaigns, and the second campaign's page how
  much of its total came from other campaigns (``selectors.moved_between_campaigns``).
- The transparency page counts a move between campaigns for the campaign the money went to (its
  category); within a month the foundation's collected is unchanged.

What a source can give is what it holds minus what is already promised from it: payouts
requested or approved (a need's) and other moves requested. The same limit binds a payout
request (``services.available``), so moving money out lowers what a need can still pay and
never strands an approved payout. A need's amount is its share of the goal; a move changes what
it raised, not its amount, so the floor a need's amount may not go below (what was paid out or
requested for it: ``zbor.campaigns.floors``) is unchanged by a move.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from zbor.accounts.services import audit, require
from zbor.campaigns.models import PUBLIC_STATUSES, Campaign, Need, Status
from zbor.ledger import chart
from zbor.ledger.models import Account, TransferKind
from zbor.ledger.selectors import credit_balances
from zbor.ledger.services import Line, post_group
from zbor.money import Money, format_money

from .exceptions import MoveFourEyes, MoveRefused, MoveTooLarge, MoveWrongState
from .models import RESERVING, Move, MoveStatus, Payout

if TYPE_CHECKING:
    from django.contrib.auth.models import User

REQUEST, APPROVE = "disbursements.add_move", "disbursements.approve_move"
#: Campaigns money may move from or to: those that hold money for someone (a withdrawn one too:
#: it was taken offline, and its money must still reach its person or another).
MOVABLE_STATUSES = (*PUBLIC_STATUSES, Status.WITHDRAWN)


def place_code(campaign_id: int, need_id: int | None) -> str:
    """The ledger account of a place: a need's, or the campaign's money beyond its goal."""
    return chart.need_code(need_id) if need_id is not None else chart.unallocated_code(campaign_id)


def _account(campaign: Campaign, need: Need | None) -> Account:
    return chart.need_account(need, campaign.currency) if need is not None else chart.unallocated_account(campaign)


def holds(campaign_id: int, need_id: int | None) -> int:
    code = place_code(campaign_id, need_id)
    return credit_balances([code]).get(code, 0)


def _moves_out(campaign_id: int, need_id: int | None) -> Q:
    return (
        Q(source_campaign_id=campaign_id, source_need_id=need_id)
        if need_id
        else Q(source_campaign_id=campaign_id, source_need__isnull=True)
    )


def requested_out(campaign_id: int, need_id: int | None, *, excluding: Move | None = None) -> int:
    """What moves requested (not decided yet) would take from the place."""
    moves = Move.objects.filter(_moves_out(campaign_id, need_id), status=MoveStatus.REQUESTED)
    if excluding is not None:
        moves = moves.exclude(pk=excluding.pk)
    return moves.aggregate(total=Sum("amount"))["total"] or 0


def _payouts_promised(need_id: int | None) -> int:
    if need_id is None:
        return 0
    return Payout.objects.filter(need_id=need_id, status__in=RESERVING).aggregate(total=Sum("amount"))["total"] or 0


def movable(campaign_id: int, need_id: int | None, *, excluding: Move | None = None) -> int:
    """What can still be asked to move out of the place: what it holds, minus payouts requested
    or approved from it and moves requested out of it."""
    return (
        holds(campaign_id, need_id)
        - _payouts_promised(need_id)
        - requested_out(campaign_id, need_id, excluding=excluding)
    )


def _money(amount: int, currency: str) -> str:
    return format_money(Money(max(amount, 0), currency), get_language() or "en")


def check_move(
    source_campaign: Campaign,
    source_need: Need | None,
    target_campaign: Campaign,
    target_need: Need | None,
    amount: int,
) -> None:
    """Refuse (MoveRefused, MoveTooLarge) a move that cannot be, with a message for finance.
    The admin's form asks first; ``request_move`` asks again under the lock."""
    for campaign, need in ((source_campaign, source_need), (target_campaign, target_need)):
        if need is not None and need.campaign_id != campaign.pk:
            raise MoveRefused(_("The need chosen is not one of the campaign's needs."))
        if campaign.status not in MOVABLE_STATUSES:
            raise MoveRefused(_("Money moves only between campaigns that are or were published."))
    if source_campaign.pk == target_campaign.pk and getattr(source_need, "pk", None) == getattr(
        target_need, "pk", None
    ):
        raise MoveRefused(_("The money is there already: choose another need or campaign to move it to."))
    if source_campaign.currency != target_campaign.currency:
        raise MoveRefused(
            _("Money moves only between campaigns of one currency: %(source)s is not %(target)s.")
            % {"source": source_campaign.currency, "target": target_campaign.currency}
        )
    if amount <= 0:
        raise MoveTooLarge(_("Enter an amount greater than zero."))
    left = movable(source_campaign.pk, getattr(source_need, "pk", None))
    if amount > left:
        raise MoveTooLarge(
            _(
                "The source holds only %(left)s that is not already promised to payouts or other moves; %(amount)s was asked."
            )
            % {"left": _money(left, source_campaign.currency), "amount": _money(amount, source_campaign.currency)}
        )


def _lock(*campaign_ids: int) -> dict[int, Campaign]:
    """Lock the campaigns' rows in primary-key order: the lock payouts take (``request_payout``),
    so a move and a payout from the same need cannot both spend the same money."""
    return {
        c.pk: c
        for c in Campaign.objects.select_for_update(no_key=True).filter(pk__in=set(campaign_ids)).order_by("pk")
    }


def request_move(
    *,
    source_campaign: Campaign,
    source_need: Need | None,
    target_campaign: Campaign,
    target_need: Need | None,
    amount: int,
    reason: str,
    by: User,
) -> Move:
    """Ask to move ``amount`` (minor units) from one place to another; a second person approves."""
    require(by, REQUEST)
    if not reason.strip():
        raise MoveRefused(_("Say why the money moves."))
    with transaction.atomic():
        locked = _lock(source_campaign.pk, target_campaign.pk)
        source, target = locked[source_campaign.pk], locked[target_campaign.pk]
        check_move(source, source_need, target, target_need, amount)
        move = Move.objects.create(
            source_campaign=source,
            source_need=source_need,
            target_campaign=target,
            target_need=target_need,
            amount=amount,
            currency=source.currency,
            reason=reason.strip(),
            requested_by=by,
        )
        audit(by, "move.request", move, fields=["source", "target", "amount", "reason"])
    return move


def _decided(move: Move, by: User) -> Move:
    locked = Move.objects.select_for_update().get(pk=move.pk)
    if locked.status != MoveStatus.REQUESTED:
        raise MoveWrongState(_("This move was decided before."))
    if locked.requested_by_id == by.pk:
        raise MoveFourEyes(_("You requested this move: someone else in finance must decide on it."))
    return locked


def approve_move(move: Move, *, by: User) -> Move:
    """A second person approves: booked at once, debiting the source and crediting the target.
    Refused if the source no longer holds the money (a refund took some) beyond what its payouts
    requested or approved need; two approvals racing: the second finds it decided."""
    require(by, APPROVE)
    with transaction.atomic():
        campaigns = _lock(move.source_campaign_id, move.target_campaign_id)
        locked = _decided(move, by)
        source, target = campaigns[locked.source_campaign_id], campaigns[locked.target_campaign_id]
        if not source.currency == target.currency == locked.currency:
            raise MoveRefused(_("The campaigns are no longer in the move's currency; reject it and ask again."))
        left = holds(source.pk, locked.source_need_id) - _payouts_promised(locked.source_need_id)
        if locked.amount > left:
            raise MoveTooLarge(
                _(
                    "The source holds only %(left)s that is not promised to payouts; %(amount)s was asked. Reject the move."
                )
                % {"left": _money(left, locked.currency), "amount": _money(locked.amount, locked.currency)}
            )
        post_group(
            f"{locked.reference}:approved",
            kind=TransferKind.MOVE,
            reference=locked.reference,
            lines=[
                Line(
                    _account(source, locked.source_need),
                    _account(target, locked.target_need),
                    locked.amount,
                    TransferKind.MOVE,
                )
            ],
        )
        locked.status, locked.decided_by, locked.decided_at = MoveStatus.APPROVED, by, timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        audit(by, "move.approve", locked, fields=["status"])
    move.refresh_from_db()
    return move


def reject_move(move: Move, *, by: User) -> Move:
    """A second person rejects: nothing moves, and the money it promised is free again."""
    require(by, APPROVE)
    with transaction.atomic():
        locked = _decided(move, by)
        locked.status, locked.decided_by, locked.decided_at = MoveStatus.REJECTED, by, timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        audit(by, "move.reject", locked, fields=["status"])
    move.refresh_from_db()
    return move
