"""What finance sees of monthly giving: the summary above the Monthly gifts list (per campaign
and in total, per currency, this month) and the accountant's export of the gifts.

    active    gifts running now (status active; paused, failing and lapsed ones are not)
    income    the sum of the active gifts' amounts: what a month brings if every one is paid
    paid      the monthly payments whose money arrived this month (the day the export dates
              them by: the bank's booking day, else the day the provider confirmed it)
    new       gifts started this month; stopped: gifts stopped this month
    failing   card gifts whose last payment failed (the provider retries); lapsed: standing
              orders whose expected transfers did not come — both for finance to look at

A campaign is the one the donor chose (its months may have gone to the campaign's fund once
it closed: the donations export says where each went). Counts and sums only: the summary reads
no email, no reference, nothing of anyone. Three queries, however many gifts there are.

    Two €10 gifts to one campaign, one started this month, one €5 gift stopped on the 3rd,
    and €20 arrived this month: active 2, income €20, paid €20, new 1, stopped 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from zbor.campaigns.models import Campaign
from zbor.payments import registry

from .exports import _iso, _major, _range, arrived_donations
from .models import MonthlyGift, MonthlyStatus

FIGURES = ("active", "income", "paid", "new", "stopped", "failing", "lapsed")


@dataclass
class MonthlyFigures:
    active: int = 0
    income: int = 0
    paid: int = 0
    new: int = 0
    stopped: int = 0
    failing: int = 0
    lapsed: int = 0

    def add(self, other: MonthlyFigures) -> None:
        for name in FIGURES:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def __bool__(self) -> bool:
        return any(getattr(self, name) for name in FIGURES)


@dataclass(frozen=True)
class SummaryRow:
    campaign: Campaign
    currency: str
    figures: MonthlyFigures


@dataclass
class MonthlySummary:
    #: The first day of the month summarised, in the foundation's time zone.
    month: date
    #: One row per campaign and currency with anything to show, by campaign then currency.
    rows: list[SummaryRow] = field(default_factory=list)
    #: Per currency, the sum of its rows.
    totals: dict[str, MonthlyFigures] = field(default_factory=dict)


def month_start(day: date) -> tuple[date, datetime, datetime]:
    """The month of ``day``: its first day, and its bounds as moments in the foundation's zone."""
    tz = timezone.get_current_timezone()
    first = day.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, datetime.combine(first, time.min, tz), datetime.combine(following, time.min, tz)


def monthly_summary(*, today: date | None = None) -> MonthlySummary:
    """The monthly-giving figures of the month of ``today`` (by default, this month)."""
    first, start, end = month_start(today or timezone.localdate())
    figures: dict[tuple[int, str], MonthlyFigures] = {}
    gifts = (
        MonthlyGift.objects.values("campaign_id", "currency")
        .annotate(
            active=Count("pk", filter=Q(status=MonthlyStatus.ACTIVE)),
            income=Sum("amount", filter=Q(status=MonthlyStatus.ACTIVE), default=0),
            new=Count("pk", filter=Q(started_at__gte=start, started_at__lt=end)),
            stopped=Count("pk", filter=Q(stopped_at__gte=start, stopped_at__lt=end)),
            failing=Count("pk", filter=Q(status=MonthlyStatus.FAILING)),
            lapsed=Count("pk", filter=Q(status=MonthlyStatus.LAPSED)),
        )
        .order_by()
    )
    for row in gifts:
        figures[(row["campaign_id"], row["currency"])] = MonthlyFigures(
            active=row["active"],
            income=int(row["income"]),
            new=row["new"],
            stopped=row["stopped"],
            failing=row["failing"],
            lapsed=row["lapsed"],
        )
    last_day = end.date() - timedelta(days=1)
    paid = (
        arrived_donations(first, last_day)
        .filter(monthly_gift__isnull=False)
        .values("monthly_gift__campaign_id", "currency")
        .annotate(paid=Sum("amount"))
        .order_by()
    )
    for row in paid:
        key = (row["monthly_gift__campaign_id"], row["currency"])
        figures.setdefault(key, MonthlyFigures()).paid = int(row["paid"])
    return _summary(first, {key: value for key, value in figures.items() if value})


def _summary(first: date, figures: dict[tuple[int, str], MonthlyFigures]) -> MonthlySummary:
    campaigns = Campaign.objects.prefetch_related("translations").in_bulk({pk for pk, _currency in figures})
    summary = MonthlySummary(month=first)
    for (campaign_id, currency), values in figures.items():
        summary.rows.append(SummaryRow(campaigns[campaign_id], currency, values))
        summary.totals.setdefault(currency, MonthlyFigures()).add(values)
    summary.rows.sort(key=lambda row: (str(row.campaign).lower(), row.campaign.pk, row.currency))
    summary.totals = dict(sorted(summary.totals.items()))
    return summary


MONTHLY_GIFT_HEADER = [
    "monthly_gift",
    "created",
    "started",
    "stopped",
    "stop_reason",
    "campaign",
    "method",
    "status",
    "currency",
    "amount",
    "last_paid",
    "next_expected",
    "payments",
    "paid",
    "refunded",
    "reference",
]


def monthly_gift_rows(start: date | None, end: date | None):
    """The accountant's export of monthly gifts: those that ran in the period (made by its last
    day and not stopped before its first; without dates, every gift), oldest first, each with
    its payments whose money arrived in the period (how many, their amount, what of it went
    back). The donations export lists each payment, naming its gift in ``monthly_gift``. No
    email, no customer or idempotency key."""
    payments = {
        gift: (count, total, refunded)
        for gift, count, total, refunded in arrived_donations(start, end)
        .filter(monthly_gift__isnull=False)
        .values("monthly_gift_id")
        .annotate(count=Count("pk"), total=Sum("amount"), back=Sum("refunded"))
        .values_list("monthly_gift_id", "count", "total", "back")
        .order_by()
    }
    gifts = MonthlyGift.objects.filter(**_range("created_at", None, end))
    if start:
        gifts = gifts.filter(Q(stopped_at__isnull=True) | Q(**_range("stopped_at", start, None)))
    rows = (
        gifts.order_by("created_at", "pk")
        .values_list(
            "pk",
            "public_id",
            "created_at",
            "started_at",
            "stopped_at",
            "stop_reason",
            "campaign__slug",
            "provider",
            "status",
            "currency",
            "amount",
            "last_paid_at",
            "next_expected_on",
            "reference",
        )
        .iterator(chunk_size=2000)
    )
    return MONTHLY_GIFT_HEADER, (_gift_row(row, payments.get(row[0], (0, 0, 0))) for row in rows)


def _gift_row(row: tuple, payments: tuple[int, int, int]) -> list:
    _pk, pid, created, started, stopped, reason, slug, provider, status, cur, amount, last_paid, expected, ref = row
    count, total, refunded = payments
    return [
        str(pid)[:8],
        _iso(created),
        _iso(started),
        _iso(stopped),
        reason,
        slug,
        str(registry.label(provider)),
        status,
        cur,
        _major(amount, cur),
        _iso(last_paid),
        expected.isoformat() if expected else "",
        count,
        _major(total, cur),
        _major(refunded, cur),
        ref,
    ]
