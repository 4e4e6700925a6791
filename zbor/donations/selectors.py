"""What campaigns and needs have collected, read from the ledger's account balances.

Every public total comes from here. Each read touches a campaign's few accounts, never its
donations, so it costs the same with ten donations or ten million.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db.models import Count, Sum

from zbor.cache import SingleFlight
from zbor.db import select
from zbor.ledger.chart import COLLECTED_KINDS, OWNER, need_code, payouts_code, unallocated_code
from zbor.ledger.models import Account, TransferKind
from zbor.ledger.selectors import owner_credit_total_subquery, owner_transfer_totals

from .models import Donation, MonthlyGift, MonthlyStatus


def collected_subquery():
    """An expression for a Campaign queryset: minor units collected, 0 when nothing."""
    return owner_credit_total_subquery(OWNER, COLLECTED_KINDS)


@dataclass(frozen=True)
class CampaignMoney:
    collected: int
    #: Per need id: what was given for it (paid out or not).
    raised_by_need: dict[int, int]
    #: Given beyond the goal, held for the campaign.
    beyond_goal: int


def campaign_money(campaign_id: int, need_ids: Sequence[int]) -> CampaignMoney:
    """One query: the campaign's need, payout and unallocated balances (``need_ids`` picks the
    needs reported one by one; ``collected`` counts all of the campaign's accounts)."""
    rows = Account.objects.filter(owner_kind=OWNER, owner_id=campaign_id, kind__in=COLLECTED_KINDS).values_list(
        "code", "credits_posted", "debits_posted"
    )
    return money_from_balances(campaign_id, need_ids, rows)


def money_from_balances(
    campaign_id: int, need_ids: Sequence[int], rows: Iterable[tuple[str, int, int]]
) -> CampaignMoney:
    """``campaign_money`` from the campaign's collected-kind accounts, as (code, credits, debits)."""
    balances = {code: credits - debits for code, credits, debits in rows}
    raised = {nid: balances.get(need_code(nid), 0) + balances.get(payouts_code(nid), 0) for nid in need_ids}
    beyond = balances.get(unallocated_code(campaign_id), 0)
    return CampaignMoney(collected=sum(balances.values()), raised_by_need=raised, beyond_goal=beyond)


#: How a transfer kind counts towards what campaigns collected: +1 when it brings money to their
#: accounts, -1 when it takes money back (read on the side the money moves).
COLLECTED_SIGN: dict[str, int] = {
    TransferKind.DONATION: 1,
    TransferKind.REINSTATEMENT: 1,
    TransferKind.REFUND: -1,
    TransferKind.DISPUTE: -1,
}


@dataclass
class Totals:
    """What campaigns collected and what was paid out of it, in one currency, in minor units:
    per month (its first day) and per campaign id, each as [collected, paid]."""

    months: dict[datetime.date, list[int]] = field(default_factory=dict)
    campaigns: dict[int, list[int]] = field(default_factory=dict)

    @property
    def collected(self) -> int:
        return sum(collected for collected, _paid in self.months.values())

    @property
    def paid(self) -> int:
        return sum(paid for _collected, paid in self.months.values())


def foundation_totals() -> dict[str, Totals]:
    """The foundation's totals per currency, from the ledger's transfers (two queries).

    Collected counts what donations brought to campaign accounts minus refunds and disputes
    (plus won disputes); paid counts payouts; what is held is the difference. Money finance
    moved (``TransferKind.MOVE``) counts for the campaign it went to and against the one it left,
    as the campaign pages count it: within one campaign, and for the foundation, it adds nothing."""
    totals: dict[str, Totals] = {}
    for side, month, campaign_id, kind, currency, total in owner_transfer_totals(OWNER):
        collected, paid = _collected_and_paid(side, kind, total)
        entry = totals.setdefault(currency, Totals())
        for figures in (entry.months.setdefault(month, [0, 0]), entry.campaigns.setdefault(campaign_id, [0, 0])):
            figures[0] += collected
            figures[1] += paid
    return totals


def _collected_and_paid(side: str, kind: str, total: int) -> tuple[int, int]:
    """What one row of ``owner_transfer_totals`` adds to collected and to paid."""
    if kind == TransferKind.PAYOUT:
        return 0, total if side == "credit" else 0
    if kind == TransferKind.MOVE:
        return total if side == "credit" else -total, 0
    if COLLECTED_SIGN.get(kind) == (1 if side == "credit" else -1):
        return COLLECTED_SIGN[kind] * total, 0
    return 0, 0


def collected_since(campaign_ids: Iterable[int], since: datetime.datetime) -> dict[int, int]:
    """What each campaign collected from ``since`` on (minor units of its currency), counted as
    ``foundation_totals`` counts it; two queries for any number of campaigns. A programme
    fund's page shows it for the calendar year."""
    ids = list(campaign_ids)
    collected = dict.fromkeys(ids, 0)
    if ids:
        for side, _month, campaign_id, kind, _currency, total in owner_transfer_totals(
            OWNER, owner_ids=ids, since=since
        ):
            collected[campaign_id] += _collected_and_paid(side, kind, total)[0]
    return collected


def allocate(
    needs: Sequence[tuple[int, int]], raised: dict[int, int], amount: int, earmark: int | None
) -> tuple[dict[int, int], int]:
    """Split a new donation of ``amount`` across needs: (per need id, beyond the goal).

    An earmarked donation goes to its need whole (the donor chose it). An unearmarked one fills
    the needs in their order, each up to what it still lacks; what is left goes beyond the goal.

    >>> allocate([(1, 500), (2, 500)], {1: 450, 2: 0}, 100, None)
    ({1: 50, 2: 50}, 0)
    >>> allocate([(1, 500)], {1: 500}, 100, None)
    ({}, 100)
    """
    if earmark is not None:
        return {earmark: amount}, 0
    shares: dict[int, int] = {}
    left = amount
    for need_id, need_amount in needs:
        if left == 0:
            break
        take = min(left, max(0, need_amount - raised.get(need_id, 0)))
        if take:
            shares[need_id] = take
            left -= take
    return shares, left


def paid_by(provider: str, payment_reference: str) -> Donation | None:
    """The donation a provider's payment id names (refunds and disputes name only that)."""
    # The exclude names the partial index's condition: SQLite uses the index only then.
    return (
        Donation.objects.filter(provider=provider, payment_reference=payment_reference)
        .exclude(payment_reference="")
        .first()
    )


class SupportMessage(NamedTuple):
    """Words of support as the public sees them: a name (or none), the message and the day the
    gift arrived, which the page shows only coarsely ("this week"), never as a date or time."""

    public_name: str
    message: str
    #: None for a gift marked succeeded without its time (data not written by the services).
    given_on: datetime.date | None


#: Values one SQL ``IN (…)`` takes on any database.
IN_CHUNK = 500


def in_chunks(values: list[str]) -> Iterator[list[str]]:
    """``values`` in slices an SQL ``IN (…)`` takes on any database."""
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]


def by_checkout(provider: str, references: list[str]) -> dict[str, Donation]:
    """The provider's donations with these checkout references (reconciliation reads the
    provider's invoices back), by reference."""
    found: dict[str, Donation] = {}
    for chunk in in_chunks(references):
        for donation in Donation.objects.filter(provider=provider, checkout_reference__in=chunk).only(
            "checkout_reference", "status", "amount", "currency", "public_id"
        ):
            found[donation.checkout_reference] = donation
    return found


def _day(value: datetime.datetime | str | None) -> datetime.date | None:
    """A DATETIME column's day as ``select`` returns it (PostgreSQL: a datetime; SQLite: text)."""
    if value is None:
        return None
    return value.date() if isinstance(value, datetime.datetime) else datetime.date.fromisoformat(str(value)[:10])


#: The words of support a read returns: SUCCEEDED and APPROVED, newest first. ``NOT
#: (message_status = '')`` is the partial index's condition as Django wrote it: SQLite uses the
#: index only when the query names it so (test_donation_indexes.py).
_APPROVED_WORDS = (
    "SELECT public_name, message, succeeded_at FROM donations_donation WHERE campaign_id = %s "
    "AND status = 'succeeded' AND message_status = 'approved' AND NOT (message_status = '') "
    "ORDER BY succeeded_at DESC LIMIT %s"
)


def approved_messages(campaign_id: int, limit: int = 20) -> list[SupportMessage]:
    """Words of support staff approved, newest first (no amounts: they are not shown with them)."""
    rows = select(Donation, _APPROVED_WORDS, [campaign_id, limit])
    return [SupportMessage(name, message, _day(at)) for name, message, at in rows]


#: How long a campaign's donor count is kept in each process: the count moves in steps, so
#: that it does not tell when one particular gift arrived (the total is the residual risk), and
#: a campaign of many gifts is not counted on every render.
DONOR_COUNT_SECONDS = 15 * 60
DONOR_COUNTS = SingleFlight(seconds=DONOR_COUNT_SECONDS, max_entries=5000)


def active_monthly_totals() -> list[tuple[int, str, int, int]]:
    """(campaign id, currency, active monthly gifts, the sum of their amounts) for each campaign
    that has any, in one query: counts and sums, nothing of anyone. Read at most once per
    DONOR_COUNT_SECONDS, like the counts on the campaign pages: the figures move in steps, so
    they do not tell when one particular gift started or stopped."""

    def read() -> list[tuple[int, str, int, int]]:
        rows = (
            MonthlyGift.objects.filter(status=MonthlyStatus.ACTIVE)
            .values("campaign_id", "currency")
            .annotate(count=Count("pk"), total=Sum("amount"))
            .values_list("campaign_id", "currency", "count", "total")
            .order_by("campaign_id", "currency")
        )
        return [(campaign_id, currency, int(count), int(total)) for campaign_id, currency, count, total in rows]

    return DONOR_COUNTS.get_or_make("monthly-income", read)


def support_and_donor_count(campaign_id: int, limit: int = 20) -> tuple[list[SupportMessage], int]:
    """The approved words of support (``approved_messages``) and how many gifts the campaign
    has received (succeeded donations: there are no accounts, so two gifts of one person count
    twice). See ``support_and_counts``."""
    words, donors, _monthly = support_and_counts(campaign_id, limit)
    return words, donors


def support_and_counts(campaign_id: int, limit: int = 20) -> tuple[list[SupportMessage], int, int]:
    """``support_and_donor_count``, and how many monthly gifts to the campaign are active. The
    counts are read at most once per DONOR_COUNT_SECONDS, in the same query as the words: a
    page costs no more queries for them."""
    read: list[list[SupportMessage]] = []

    def counts_with_words() -> tuple[int, int]:
        # One row per word of support (or one row of NULLs), each with the counts: the gifts are
        # counted in the campaign-and-status index alone (donation_campaign_status), the monthly
        # gifts in theirs (monthly_campaign_status).
        rows = select(
            Donation,
            "SELECT c.n, c.g, m.public_name, m.message, m.succeeded_at FROM "
            "(SELECT COUNT(*) AS n, (SELECT COUNT(*) FROM donations_monthlygift WHERE campaign_id = %s "
            "AND status = 'active') AS g FROM donations_donation WHERE campaign_id = %s AND status = 'succeeded') c "
            "LEFT JOIN (SELECT public_name, message, succeeded_at FROM donations_donation WHERE campaign_id = %s "
            "AND status = 'succeeded' AND message_status = 'approved' AND NOT (message_status = '') "
            "ORDER BY succeeded_at DESC LIMIT %s) m ON 1 = 1 ORDER BY m.succeeded_at DESC",
            [campaign_id, campaign_id, campaign_id, limit],
        )
        # The LEFT JOIN gives one row of NULLs when there are no words.
        read.append(
            [SupportMessage(name, message, _day(at)) for _n, _g, name, message, at in rows if message is not None]
        )
        return int(rows[0][0]), int(rows[0][1])

    donors, monthly = DONOR_COUNTS.get_or_make(campaign_id, counts_with_words)
    return (read[0] if read else approved_messages(campaign_id, limit)), donors, monthly
