"""The unmatched queue: finance decides what each bank line no pledge claimed was.

A credit line whose text names no pending pledge waits (``LineStatus.UNMATCHED``), as does a
returned or reversed transfer (``REVERSAL``). Nothing stays there without a person deciding:

- **attach** it to the pending pledge it was meant for, found by its reference in any spelling
  (``ZB4K7Q-9MX2T``, ``zb4k7q 9mx2t``, one typing slip away): the pledge is booked at the
  amount the line brought; or to the standing order it was meant for: it becomes one of its
  months, booked at that amount;
- **assign** it to a campaign, and to one of its needs when the donor's words name one (the
  earmark is kept): it becomes a donation to it;
- mark it **not a donation** (a membership fee, a grant): it is booked as the foundation's
  other income (``income:<CUR>``), with the reason;
- **return** it to the sender: nothing is booked, it waits to be sent back by hand
  (``review.return_line``, which also takes unmatched lines);
- mark a **reversal handled**, saying how (what it reversed, what was done).

Each is one transaction with its audit row; the line's row is locked first, so a second
decision finds it decided. Finance's permission ``donations.decide_amount`` is needed.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from zbor.accounts.services import audit
from zbor.campaigns.models import Campaign, Need
from zbor.ledger import chart
from zbor.ledger.models import TransferKind
from zbor.ledger.services import Line, post_group
from zbor.payments.bank import near_references, references_in

from ..exceptions import DonationRefused, NotInReview
from ..models import BankStatementLine, Donation, DonationStatus, LineStatus
from .booking import confirm_donation
from .monthly import month_paid
from .review import given_reason, require_decider, same_currency
from .standing_orders import line_month, standing_order_named_by

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _locked(line: BankStatementLine, *statuses: str) -> BankStatementLine:
    locked = BankStatementLine.objects.select_for_update().get(pk=line.pk)
    if locked.status not in statuses:
        raise NotInReview(_("This line was decided before: it is no longer waiting in the queue."))
    return locked


def pledge_named_by(text: str) -> Donation | None:
    """The one pending bank pledge ``text`` names (a reference in any spelling, or one typing
    slip away from one), or None."""
    pending = Donation.objects.filter(provider="bank", status=DonationStatus.PENDING).exclude(checkout_reference="")
    for candidates in (references_in(text), near_references(text)):
        found = list(pending.filter(checkout_reference__in=candidates)[:2]) if candidates else []
        if len(found) == 1:
            return found[0]
    return None


def attach_line(line: BankStatementLine, *, reference: str, by: User) -> Donation:
    """Book the pending pledge ``reference`` names with the money of this unmatched line (at the
    amount the line brought: a person decided); or, if it names a standing order, make the line
    one of its months, booked so."""
    require_decider(by)
    with transaction.atomic():
        locked = _locked(line, LineStatus.UNMATCHED)
        donation = pledge_named_by(reference)
        gift = standing_order_named_by(reference) if donation is None else None
        if gift is not None:
            same_currency(locked, gift.currency)
            donation, _somewhere = line_month(gift, line_key=locked.key)
        if donation is None:
            raise DonationRefused(_("No pending bank pledge or running standing order has this reference."))
        same_currency(locked, donation.currency)
        if not confirm_donation(donation, amount=locked.amount):
            raise NotInReview(_("The pledge was booked meanwhile: assign or return this money instead."))
        if gift is not None:
            month_paid(gift, paid_on=locked.booked_on)
        locked.status, locked.donation, locked.text = LineStatus.ASSIGNED, donation, ""
        locked.monthly_gift = gift or locked.monthly_gift
        locked.save(update_fields=["status", "donation", "text", "monthly_gift"])
        audit(by, "bank_statement_line.attach", locked, fields=["status", "donation"])
    donation.refresh_from_db()
    return donation


def assign_line(line: BankStatementLine, *, campaign: Campaign, need: Need | None = None, by: User) -> Donation:
    """The unmatched credit becomes a donation to ``campaign``, earmarked to ``need`` if given."""
    require_decider(by)
    if need is not None and need.campaign_id != campaign.pk:
        raise DonationRefused(_("The need belongs to another campaign."))
    with transaction.atomic():
        locked = _locked(line, LineStatus.UNMATCHED)
        same_currency(locked, campaign.currency)
        donation = Donation.objects.create(
            campaign=campaign,
            need=need,
            amount=locked.amount,
            currency=locked.currency,
            provider="bank",
            checkout_reference=f"line:{locked.key}"[:255],
            idempotency_key=uuid.uuid4().hex,
        )
        confirm_donation(donation, amount=locked.amount)
        locked.status, locked.donation, locked.text = LineStatus.ASSIGNED, donation, ""
        locked.save(update_fields=["status", "donation", "text"])
        audit(by, "bank_statement_line.assign", locked, fields=["status", "donation"])
    donation.refresh_from_db()
    return donation


def mark_not_a_donation(line: BankStatementLine, *, reason: str, by: User) -> BankStatementLine:
    """The money is the foundation's other income, not a donation: booked as such, with why."""
    require_decider(by)
    reason = given_reason(reason)
    with transaction.atomic():
        locked = _locked(line, LineStatus.UNMATCHED)
        post_group(
            f"bankline:{locked.key}:income",
            kind=TransferKind.INCOME,
            reference=f"bankline:{locked.pk}",
            lines=[
                Line(
                    chart.provider_account("bank", locked.currency),
                    chart.income_account(locked.currency),
                    locked.amount,
                    TransferKind.INCOME,
                )
            ],
        )
        locked.status, locked.reason = LineStatus.NOT_DONATION, reason
        locked.save(update_fields=["status", "reason"])
        audit(by, "bank_statement_line.not_donation", locked, fields=["status", "reason"])
    line.refresh_from_db()
    return line


def settle_reversal(line: BankStatementLine, *, reason: str, by: User) -> BankStatementLine:
    """Finance looked at a returned or reversed transfer and says what was done about it."""
    require_decider(by)
    reason = given_reason(reason)
    with transaction.atomic():
        locked = _locked(line, LineStatus.REVERSAL)
        locked.status, locked.reason = LineStatus.REVERSAL_HANDLED, reason
        locked.save(update_fields=["status", "reason"])
        audit(by, "bank_statement_line.reversal_handled", locked, fields=["status", "reason"])
    line.refresh_from_db()
    return line
