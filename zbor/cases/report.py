"""Casework in figures for the monthly report: never a name, never a code, nothing sealed.

    received    applications that arrived in the month, per programme
    statuses    where those applications stand now, per programme and status
    decided     applications decided in the month (approved or declined), and the median of
                the days from their arrival to the decision
    granted     what was approved in the month, per currency
    paid        grants from programme funds for cases paid in the month, per currency

Plain columns only (``Case``'s programme, status, dates and amount): it needs no key, and a
purged case still counts.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.db.models import Count, Sum
from django.utils import timezone

from zbor.disbursements.models import PayoutStatus

from .models import Case, CaseStatus, Programme


@dataclass(frozen=True)
class ProgrammeRow:
    programme: str
    received: int
    statuses: dict[str, int]
    decided: int
    median_days: float | None


@dataclass
class CaseworkReport:
    month: date
    rows: list[ProgrammeRow] = field(default_factory=list)
    #: currency → minor units approved in the month.
    granted: dict[str, int] = field(default_factory=dict)
    #: currency → minor units of cases' grants (payouts from funds) paid in the month.
    paid: dict[str, int] = field(default_factory=dict)
    median_days: float | None = None


def _bounds(day: date) -> tuple[date, datetime, datetime]:
    tz = timezone.get_current_timezone()
    first = day.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, datetime.combine(first, time.min, tz), datetime.combine(following, time.min, tz)


def _median(days: list[float]) -> float | None:
    return round(statistics.median(days), 1) if days else None


def casework_report(*, today: date | None = None) -> CaseworkReport:
    """The figures of the month of ``today`` (by default, this month)."""
    first, start, end = _bounds(today or timezone.localdate())
    report = CaseworkReport(month=first)
    received = Case.objects.filter(received_at__gte=start, received_at__lt=end)
    statuses: dict[int, dict[str, int]] = {}
    for row in received.values("programme_id", "status").annotate(n=Count("pk")).order_by():
        statuses.setdefault(row["programme_id"], {})[row["status"]] = row["n"]
    decided = Case.objects.filter(
        decided_at__gte=start,
        decided_at__lt=end,
        status__in=(CaseStatus.APPROVED, CaseStatus.DECLINED, CaseStatus.CLOSED),
    )
    waits: dict[int, list[float]] = {}
    for programme_id, received_at, decided_at in decided.values_list("programme_id", "received_at", "decided_at"):
        if decided_at is not None:  # always, by the filter: for the type checker
            waits.setdefault(programme_id, []).append((decided_at - received_at).total_seconds() / 86400)
    programmes = Programme.objects.prefetch_related("translations").in_bulk(set(statuses) | set(waits))
    for pk, programme in sorted(programmes.items(), key=lambda item: (item[1].position, item[0])):
        counts = statuses.get(pk, {})
        report.rows.append(
            ProgrammeRow(
                programme=str(programme),
                received=sum(counts.values()),
                statuses={status: counts.get(status, 0) for status in CaseStatus.values},
                decided=len(waits.get(pk, [])),
                median_days=_median(waits.get(pk, [])),
            )
        )
    report.median_days = _median([d for days in waits.values() for d in days])
    granted = (
        decided.exclude(approved_amount__isnull=True)
        .values("currency")
        .annotate(total=Sum("approved_amount"))
        .order_by()
    )
    report.granted = {row["currency"]: int(row["total"]) for row in granted}
    paid = (
        Case.objects.filter(payout__status=PayoutStatus.PAID, payout__paid_at__gte=start, payout__paid_at__lt=end)
        .values("payout__currency")
        .annotate(total=Sum("payout__amount"))
        .order_by()
    )
    report.paid = {row["payout__currency"]: int(row["total"]) for row in paid}
    return report
