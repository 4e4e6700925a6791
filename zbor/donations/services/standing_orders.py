"""Bank standing orders: monthly gifts the donor pays by a transfer their bank sends every
month, each carrying the gift's one permanent reference (``MonthlyGift.reference``, drawn like
a bank pledge's, e.g. ``ZB4K7Q-9MX2T``).

- The statement import (``bank_import``) makes each credit line naming a standing order's
  reference one month of it: a new donation (``monthly.month_donation``) whose checkout
  reference is ``<gift reference>:<line key>``, so that a line is one month exactly once (a
  statement imported again adds no line) and the same reference twice in one month is two
  months (a donor may send an extra one). It is booked with the batch's other matches. A line
  of another amount or currency waits for finance like a one-off pledge's (``LineStatus.REVIEW``,
  ``services.review``: accepting it books that month). A stopped standing order's reference
  books nothing: the line waits in the unmatched queue, naming the stopped gift.
- When a month arrives the next is expected a month after the line's booking day
  (``monthly.month_paid``).
- Lapsing (``lapse_standing_orders``, a daily task): a running standing order whose two
  expected months both passed is listed for finance as lapsed. Nobody is written to, and it is
  not stopped (no stop reason, the email kept while it may resume): its next transfer makes it
  active again.

    A €10 standing order paid on 3 September, 3 October and 3 November: three donations, the
    next expected on 3 December. Nothing arrives on 3 December nor on 3 January: it is still
    active on 13 January (3 January + LAPSE_GRACE_DAYS), lapsed from 14 January. A transfer on
    3 February makes it active again, the next expected on 3 March.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Q
from django.utils import timezone

from zbor.payments.bank import near_references, references_in

from ..models import Donation, MonthlyGift, MonthlyStatus
from .monthly import _next_month, month_donation, monthly_destination

#: The provider of standing orders.
BANK = "bank"

#: Standing orders whose reference on a line books a month. A stopped one's waits for finance;
#: a paused one's still books (money the donor's bank sent is theirs for the gift).
BOOKS_MONTHS = (MonthlyStatus.PENDING, MonthlyStatus.ACTIVE, MonthlyStatus.LAPSED, MonthlyStatus.PAUSED)

#: Days a second missed month is waited for before the standing order lapses: a transfer due on
#: a weekend or holiday is booked days later, and finance may import statements once a week.
LAPSE_GRACE_DAYS = 10


def standing_orders_named(references: list[str]) -> list[MonthlyGift]:
    """The bank's monthly gifts with these references, whatever their status."""
    if not references:
        return []
    return list(
        MonthlyGift.objects.filter(provider=BANK, reference__in=references)
        .exclude(reference="")
        .select_related("campaign")
    )


def standing_order_named_by(text: str) -> MonthlyGift | None:
    """The one standing order that books months (``BOOKS_MONTHS``) ``text`` names (its
    reference in any spelling, or one typing slip away from it), or None."""
    running = MonthlyGift.objects.filter(provider=BANK, status__in=BOOKS_MONTHS).exclude(reference="")
    for candidates in (references_in(text), near_references(text)):
        found = list(running.filter(reference__in=candidates)[:2]) if candidates else []
        if len(found) == 1:
            return found[0]
    return None


def line_month(gift: MonthlyGift, *, line_key: str) -> tuple[Donation, bool]:
    """The month a statement line pays, saved as a pending donation (in the caller's
    transaction, without a savepoint: an import makes hundreds), and whether it has somewhere
    to go (``monthly_destination``; if not, finance decides, as for money that differs)."""
    destination = monthly_destination(gift)
    donation = month_donation(gift, f"{gift.reference}:{line_key}", destination or gift.campaign)
    donation.save(force_insert=True)
    return donation, destination is not None


def lapses_after(next_expected_on: date) -> date:
    """The last day a standing order expected on ``next_expected_on`` is still active: the
    month after that (a second expected month) plus LAPSE_GRACE_DAYS."""
    return _next_month(next_expected_on) + timedelta(days=LAPSE_GRACE_DAYS)


def lapse_standing_orders(today: date | None = None) -> int:
    """Mark lapsed every active standing order whose two expected months both passed
    (``lapses_after``). Returns how many lapsed. Safe to run twice; nobody is told."""
    today = today or timezone.localdate()
    # A month has at least 28 days: read only the gifts possibly due, then decide exactly.
    candidates = MonthlyGift.objects.filter(
        provider=BANK,
        status=MonthlyStatus.ACTIVE,
        next_expected_on__lt=today - timedelta(days=28 + LAPSE_GRACE_DAYS),
    ).values_list("pk", "next_expected_on")
    due = [pk for pk, expected in candidates if expected is not None and lapses_after(expected) < today]
    if not due:
        return 0
    return MonthlyGift.objects.filter(pk__in=due, status=MonthlyStatus.ACTIVE).update(status=MonthlyStatus.LAPSED)


def lapsed_count() -> int:
    """How many standing orders are lapsed (finance's list shows it)."""
    return MonthlyGift.objects.filter(Q(provider=BANK) & Q(status=MonthlyStatus.LAPSED)).count()
