"""Money whose amount differs from its pledge: finance accepts it, splits it, or returns it.

A bank line (``LineStatus.REVIEW``) or a provider's payment (``EventStatus.REVIEW``) that names
a pending donation but brings another amount or currency, or more than the per-donation
maximum, is never booked by itself (``bank_import``, ``events``). A person in finance decides:

- accept as received: the donation is booked at the amount that arrived (its amount becomes
  that), the line becomes matched, the event processed. Allowed above the maximum (a person
  decided); refused in another currency (the campaign's accounts hold one currency);
- split (bank lines that brought more than pledged): the pledge is booked at its amount, the
  rest as a second gift to a campaign and need finance names (``split_line``);
- return to sender: nothing is booked. The line waits to be sent back by hand (``TO_RETURN``);
  the event is declined (``DECLINED``) and the money is refunded in the provider's dashboard
  by hand (a refund through the provider's API is a later task).

A line naming a bank standing order names the month the import made for it (a pending
donation of the monthly gift): accepting or splitting it books that month (the gift runs, its
next month expected a month after the line's booking day); returning it cancels that month.

Each decision is one transaction: the line's or event's row is locked first, so a second
decision waits and then finds it decided (``NotInReview``); the audit rows are written in it.
The audit log names what changed, never amounts: the line or event keeps both figures (its own
amount and ``pledged``). Lock order: that row, then the booking's own (the campaign, then the
donation: booking.py); the donation is never locked here before its campaign.

    €60 pledged, €600 arrived, finance accepts: the donation is booked as €600, the line keeps
    pledged €60; audit rows ``bank_statement_line.accept_amount`` and ``donation.accept_amount``.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from zbor.accounts.services import audit, require
from zbor.campaigns.models import Campaign, Need
from zbor.payments.base import PAID_TYPES, PaymentEvent
from zbor.payments.models import EventStatus, PaymentEventRecord

from ..exceptions import DonationRefused, NotInReview
from ..models import BankStatementLine, Donation, DonationStatus, LineStatus
from .booking import confirm_donation, confirm_donations
from .monthly import month_paid
from .start import end_unpaid

if TYPE_CHECKING:
    from django.contrib.auth.models import User

#: Finance's permission to decide on money whose amount differs.
DECIDE = "donations.decide_amount"


def require_decider(user: User | None) -> None:
    """Finance's permission to decide what money that arrived was (here and in ``queue``)."""
    require(user, DECIDE, _("Your role may not decide on money whose amount differs."))


def _not_in_review() -> NotInReview:
    return NotInReview(
        _("This is not waiting for a decision on its amount: it was decided before, or its amount never differed.")
    )


def _check_acceptable(donation: Donation | None, *, currency: str) -> Donation:
    if donation is None:
        raise NotInReview(_("The donation this money names no longer exists."))
    if donation.status == DonationStatus.SUCCEEDED:
        raise NotInReview(_("The donation was booked meanwhile: return this money instead."))
    if currency != donation.currency:
        raise DonationRefused(
            _("The money arrived in %(received)s but the donation is in %(pledged)s: it can only be returned.")
            % {"received": currency, "pledged": donation.currency}
        )
    return donation


def same_currency(line: BankStatementLine, currency: str) -> None:
    """A line's money can only become a gift to a campaign collecting its currency."""
    if currency != line.currency:
        raise DonationRefused(
            _("The line is in %(line)s but the campaign collects %(campaign)s.")
            % {"line": line.currency, "campaign": currency}
        )


def given_reason(reason: str) -> str:
    if not reason.strip():
        raise DonationRefused(_("Say why the money is returned."))
    return reason.strip()


def accept_line(line: BankStatementLine, *, by: User) -> Donation:
    """Book the line's pledge at the amount the line brought. NotInReview when the line was
    decided before; DonationRefused for a line in another currency."""
    require_decider(by)
    with transaction.atomic():
        locked = BankStatementLine.objects.select_for_update().get(pk=line.pk)
        if locked.status != LineStatus.REVIEW:
            raise _not_in_review()
        donation = _check_acceptable(locked.donation, currency=locked.currency)
        if not confirm_donation(donation, amount=locked.amount):
            raise NotInReview(_("The donation was booked meanwhile: return this money instead."))
        _month_booked(locked, donation)
        locked.status, locked.text = LineStatus.MATCHED, ""
        locked.save(update_fields=["status", "text"])
        audit(by, "bank_statement_line.accept_amount", locked, fields=["status"])
        audit(by, "donation.accept_amount", donation, fields=["amount", "status"])
    line.refresh_from_db()
    donation.refresh_from_db()
    return donation


def split_line(line: BankStatementLine, *, campaign: Campaign, need: Need | None = None, by: User) -> Donation:
    """More than pledged arrived: book the pledge at its pledged amount and the rest as a
    second gift to ``campaign`` (the same one, or another the donor's words name), earmarked to
    ``need`` if given. Returns the second gift. Money to send back is accepted first and then
    refunded in part (``refunds``), so the return has its four eyes too.

        €60 pledged, €600 arrived, split to the same campaign: the pledge is booked at €60 and a
        gift of €540 to the campaign's unallocated money; both name the line.
    """
    require_decider(by)
    if need is not None and need.campaign_id != campaign.pk:
        raise DonationRefused(_("The need belongs to another campaign."))
    with transaction.atomic():
        locked = BankStatementLine.objects.select_for_update().get(pk=line.pk)
        if locked.status != LineStatus.REVIEW:
            raise _not_in_review()
        donation = _check_acceptable(locked.donation, currency=locked.currency)
        rest = locked.amount - donation.amount
        if rest <= 0:
            raise DonationRefused(
                _("Only money above the pledge can be split: accept this line as received or return it.")
            )
        same_currency(locked, campaign.currency)
        second = Donation.objects.create(
            campaign=campaign,
            need=need,
            amount=rest,
            currency=locked.currency,
            provider="bank",
            checkout_reference=f"line:{locked.key}:rest"[:255],
            idempotency_key=uuid.uuid4().hex,
        )
        booked = confirm_donations([(donation, donation.amount), (second, rest)])
        if donation.pk not in booked:
            raise NotInReview(_("The donation was booked meanwhile: return this money instead."))
        _month_booked(locked, donation)
        locked.status, locked.text = LineStatus.MATCHED, ""
        locked.save(update_fields=["status", "text"])
        audit(by, "bank_statement_line.split", locked, fields=["status"])
        audit(by, "donation.split", second, fields=["campaign", "need", "amount"])
    line.refresh_from_db()
    second.refresh_from_db()
    return second


def return_line(line: BankStatementLine, *, reason: str, by: User) -> BankStatementLine:
    """Book nothing: the line waits to be sent back by hand, and lets go of the pledge (which
    stays pending: a transfer of the right amount can still match it; a standing order's month
    made for this line is cancelled)."""
    require_decider(by)
    reason = given_reason(reason)
    with transaction.atomic():
        locked = BankStatementLine.objects.select_for_update().get(pk=line.pk)
        # A line of the review queue, or of the unmatched queue (money nobody pledged).
        if locked.status not in (LineStatus.REVIEW, LineStatus.UNMATCHED):
            raise _not_in_review()
        if locked.donation is not None and locked.donation.monthly_gift_id is not None:
            # The month the import made for this line: no other line can pay it.
            end_unpaid(locked.donation, status=DonationStatus.CANCELLED)
        locked.status, locked.donation, locked.reason = LineStatus.TO_RETURN, None, reason
        locked.save(update_fields=["status", "donation", "reason"])
        audit(by, "bank_statement_line.return", locked, fields=["status", "reason"])
    line.refresh_from_db()
    return line


def _month_booked(line: BankStatementLine, donation: Donation) -> None:
    """A standing order's month was booked from this line: the gift runs, and its next month is
    expected a month after the line's booking day."""
    if donation.monthly_gift is not None:
        month_paid(donation.monthly_gift, paid_on=line.booked_on)


def payment_donation(record: PaymentEventRecord) -> Donation | None:
    """The donation a provider's event names by its checkout reference."""
    if not record.checkout_reference:
        return None
    return Donation.objects.filter(provider=record.provider, checkout_reference=record.checkout_reference).first()


def _locked_payment(record: PaymentEventRecord) -> PaymentEventRecord:
    locked = PaymentEventRecord.objects.select_for_update().get(pk=record.pk)
    if locked.status != EventStatus.REVIEW or locked.type not in PAID_TYPES:
        raise _not_in_review()
    return locked


def accept_payment(record: PaymentEventRecord, *, by: User) -> Donation:
    """Book the payment's donation at the amount the provider received (with its fee and
    references); the event is marked processed with the booking."""
    require_decider(by)
    with transaction.atomic():
        locked = _locked_payment(record)
        event = PaymentEvent.from_json(locked.provider, locked.event_id, locked.data)
        donation = payment_donation(locked)
        donation = _check_acceptable(donation, currency=event.currency or getattr(donation, "currency", ""))
        booked = confirm_donation(
            donation,
            amount=event.amount,
            fee=event.fee,
            payment_reference=event.payment_reference,
            charge_reference=event.extra.get("charge", ""),
            event=locked,
        )
        if not booked:
            raise NotInReview(_("The donation was booked meanwhile: return this money instead."))
        audit(by, "payment_event.accept_amount", locked, fields=["status"])
        audit(by, "donation.accept_amount", donation, fields=["amount", "status"])
    # Refunds or disputes that arrived before the payment was booked apply now. (Imported here:
    # the events module imports the services.)
    from ..events import retry_deferred

    retry_deferred(locked.provider, locked.payment_reference)
    record.refresh_from_db()
    donation.refresh_from_db()
    return donation


def return_payment(record: PaymentEventRecord, *, reason: str, by: User) -> PaymentEventRecord:
    """Book nothing: the event is declined with finance's reason, and the money is refunded in
    the provider's dashboard by hand."""
    require_decider(by)
    reason = given_reason(reason)
    with transaction.atomic():
        locked = _locked_payment(record)
        locked.status, locked.reason = EventStatus.DECLINED, reason
        locked.save(update_fields=["status", "reason"])
        audit(by, "payment_event.return", locked, fields=["status", "reason"])
    record.refresh_from_db()
    return record
