"""Taking back part of a succeeded donation (a refund, a dispute) and giving back a dispute
that was won: each mirrors, in proportion, what the donation credited.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from zbor.campaigns.models import Campaign
from zbor.ledger import chart as accounts
from zbor.ledger.models import Account, Transfer, TransferGroup, TransferKind
from zbor.ledger.selectors import credit_balances
from zbor.ledger.services import Line, post_group
from zbor.money import split_proportionally

from .. import credit_notes
from ..exceptions import DonationRefused, NotPaidYet
from ..models import Donation, DonationStatus, Refund, RefundCover, RefundStatus


def _net_by_account(donation: Donation) -> dict[int, int]:
    """What the donation still holds on each campaign account it credited (given, minus refunds
    and disputes, plus reinstated disputes), from its own ledger transfers."""
    net: dict[int, int] = {}
    transfers = list(Transfer.objects.filter(group__reference=donation.reference))
    for t in transfers:
        if t.kind == TransferKind.DONATION:
            net[t.credit_account_id] = net.get(t.credit_account_id, 0) + t.amount
    for t in transfers:
        if t.kind in (TransferKind.REFUND, TransferKind.DISPUTE) and t.debit_account_id in net:
            net[t.debit_account_id] -= t.amount
        elif t.kind == TransferKind.REINSTATEMENT and t.credit_account_id in net:
            net[t.credit_account_id] += t.amount
    return net


def _disputed_by_account(donation: Donation) -> dict[int, int]:
    held: dict[int, int] = {}
    for t in Transfer.objects.filter(
        group__reference=donation.reference, kind__in=[TransferKind.DISPUTE, TransferKind.REINSTATEMENT]
    ):
        if t.kind == TransferKind.DISPUTE:
            held[t.debit_account_id] = held.get(t.debit_account_id, 0) + t.amount
        else:
            held[t.credit_account_id] = held.get(t.credit_account_id, 0) - t.amount
    return held


def _proportional(amount: int, weights: dict[int, int]) -> list[tuple[Account, int]]:
    """``amount`` split over the accounts in proportion to their weights, whole units, none lost;
    accounts with nothing to give and zero parts are left out."""
    account_ids = sorted(a for a, weight in weights.items() if weight > 0)
    parts = split_proportionally(amount, [weights[a] for a in account_ids])
    by_id = Account.objects.in_bulk(account_ids)
    return [(by_id[a], part) for a, part in zip(account_ids, parts, strict=True) if part > 0]


def _covered(
    campaign: Campaign, parts: list[tuple[Account, int]], cover: str = RefundCover.AUTOMATIC
) -> list[tuple[Account, int]]:
    """``parts`` with no campaign account giving more than it holds now. Money already paid out
    for a need cannot go back from the need: what it lacks is covered as finance chose with the
    refund (``RefundCover``) — the campaign's unallocated money (beyond its goal), the
    foundation's reserve (its own money), or the first then the second (what a provider's own
    refund or dispute event uses) — so that no public figure goes below zero or contradicts
    another (docs/ledger.md, "Refunds after payouts"). Only the campaign's unallocated money
    can run short: then ``DonationRefused`` says so and, raised inside the caller's
    transaction, nothing is booked."""
    unallocated = accounts.unallocated_account(campaign)
    holds = credit_balances([account.code for account, _part in parts] + [unallocated.code])
    taken: dict[Account, int] = {}
    short = 0
    for account, part in parts:
        part_taken = min(part, max(0, holds.get(account.code, 0)))
        holds[account.code] = holds.get(account.code, 0) - part_taken
        taken[account] = taken.get(account, 0) + part_taken
        short += part - part_taken
    if short:
        from_unallocated = 0
        if cover != RefundCover.RESERVE:
            from_unallocated = min(short, max(0, holds.get(unallocated.code, 0)))
            taken[unallocated] = taken.get(unallocated, 0) + from_unallocated
        if short > from_unallocated:
            if cover == RefundCover.UNALLOCATED:
                raise DonationRefused(
                    _(
                        "The need already paid this money out and the campaign's unallocated money "
                        "holds too little to cover it: choose the foundation's reserve as the cover."
                    )
                )
            taken[accounts.reserve_account(campaign.currency)] = short - from_unallocated
    return [(account, part) for account, part in taken.items() if part > 0]


def check_cover(donation: Donation, *, amount: int, cover: str) -> None:
    """Raise ``DonationRefused`` if ``cover`` cannot cover a refund of ``amount`` now; writes
    nothing (asked before a card refund goes to its provider)."""
    campaign = Campaign.objects.get(pk=donation.campaign_id)
    _covered(campaign, _proportional(amount, _net_by_account(donation)), cover)


def sent_not_booked(donation: Donation) -> int:
    """What staff refunds asked of the card provider hold that is not booked yet: the provider's
    cumulative refund total may count them already; their own answer or event books them."""
    return sum(Refund.objects.filter(donation=donation, status=RefundStatus.SENT).values_list("amount", flat=True))


def take_back(
    donation: Donation,
    *,
    kind: str,
    key: str,
    amount: int = 0,
    cumulative: int | None = None,
    cover: str = RefundCover.AUTOMATIC,
) -> bool:
    """Reverse part of a succeeded donation — a refund or a dispute; False if nothing to do.

    For a refund the provider reports give ``cumulative``, the charge's total refunds (so a
    refund event delivered twice or late changes nothing); staff refunds Zbor asked of the
    provider and has not booked yet are left out of it, since their own answer or event books
    them (``services.refunds``). For a staff refund or a dispute give ``amount``. ``cover``
    says where money already paid out from a need comes from (``_covered``).
    The reversal mirrors what the donation did: each campaign account it credited is debited in
    proportion to what the donation still holds there, in whole minor units adding up exactly.
    Providers keep their fee, so the fee is not reversed.
    """
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update(no_key=True).get(pk=donation.campaign_id)
        locked = Donation.objects.select_for_update().get(pk=donation.pk)
        if locked.status != DonationStatus.SUCCEEDED:
            raise NotPaidYet(str(locked.public_id))
        group_key = f"{locked.reference}:{key}"
        if TransferGroup.objects.filter(key=group_key).exists():
            return False
        if kind == TransferKind.REFUND and cumulative is not None:
            amount = cumulative - locked.refunded - sent_not_booked(locked)
        amount = min(amount, locked.amount - locked.refunded - locked.disputed)
        if amount <= 0:
            return False
        # Credited to the refunds or disputes account: a contra account of the provider's
        # clearing, so what went back is readable in one row (see docs/ledger.md).
        returned = accounts.returned_account(kind, locked.provider, locked.currency)
        lines = [
            Line(account, returned, part, kind)
            for account, part in _covered(campaign, _proportional(amount, _net_by_account(locked)), cover)
        ]
        post_group(group_key, kind=kind, reference=locked.reference, lines=lines)
        column = "refunded" if kind == TransferKind.REFUND else "disputed"
        Donation.objects.filter(pk=locked.pk).update(**{column: getattr(locked, column) + amount})
        credit_notes.note_reversal(locked.pk, kind=kind, amount=amount, key=group_key)  # a refund corrects the receipt
    donation.refresh_from_db()
    return True


def reinstate_dispute(donation: Donation, *, amount: int, key: str) -> bool:
    """A dispute was won and the money came back: return it to the accounts it was taken from."""
    with transaction.atomic():
        Campaign.objects.select_for_update(no_key=True).get(pk=donation.campaign_id)
        locked = Donation.objects.select_for_update().get(pk=donation.pk)
        group_key = f"{locked.reference}:{key}"
        if locked.status != DonationStatus.SUCCEEDED or TransferGroup.objects.filter(key=group_key).exists():
            return False
        amount = min(amount, locked.disputed)
        if amount <= 0:
            return False
        disputes = accounts.returned_account(TransferKind.DISPUTE, locked.provider, locked.currency)
        lines = [
            Line(disputes, account, part, TransferKind.REINSTATEMENT)
            for account, part in _proportional(amount, _disputed_by_account(locked))
        ]
        post_group(group_key, kind=TransferKind.REINSTATEMENT, reference=locked.reference, lines=lines)
        Donation.objects.filter(pk=locked.pk).update(disputed=locked.disputed - amount)
    donation.refresh_from_db()
    return True
