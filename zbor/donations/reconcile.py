"""Reconciliation: the ledger agrees with itself, with the donations, and with the provider.

Checks, each streaming from the database so memory stays flat:

1. every account's running totals equal the sum of its transfers, every group is whole
   (zbor.ledger.checks);
2. every succeeded donation has exactly its transfers: the campaign accounts were credited
   its amount in its ``…:succeeded`` group, and reversals add up to what it says was refunded;
   a donation that did not succeed has no transfers at all;
3. given a Stripe balance-transactions export (CSV), every charge and refund in it matches
   a donation's amount, fee and refunds in the ledger, and no Stripe donation is missing
   from the export.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC
from decimal import Decimal, InvalidOperation

from django.db.models import Q, Sum

from zbor.ledger.checks import LedgerReport, check_ledger
from zbor.ledger.models import Transfer, TransferKind
from zbor.money import is_currency, minor_digits

from .models import Donation, DonationStatus


@dataclass
class ReconcileReport:
    ledger: LedgerReport
    donations: int = 0
    stripe_rows: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.ledger.ok and not self.problems

    def lines(self) -> list[str]:
        out = [
            f"accounts: {self.ledger.accounts}, transfer groups: {self.ledger.groups}, transfers: {self.ledger.transfers}",
            f"donations checked: {self.donations}",
        ]
        if self.stripe_rows:
            out.append(f"Stripe balance transactions checked: {self.stripe_rows}")
        problems = self.ledger.problems + self.problems
        out += [f"DIFFERENCE: {p}" for p in problems] or ["clean: no differences"]
        return out


def _sums_by_reference(kinds) -> dict[str, int]:
    """Sum of transfer amounts per group reference, for transfers of these kinds."""
    rows = (
        Transfer.objects.filter(kind__in=kinds)
        .values_list("group__reference")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return dict(rows)


def _check_donations(report: ReconcileReport) -> None:
    given = _sums_by_reference([TransferKind.DONATION])
    refunds = _sums_by_reference([TransferKind.REFUND])
    disputes = _sums_by_reference([TransferKind.DISPUTE])
    reinstated = _sums_by_reference([TransferKind.REINSTATEMENT])
    fees = _sums_by_reference([TransferKind.FEE])
    taken = {r: refunds.get(r, 0) + disputes.get(r, 0) for r in set(refunds) | set(disputes)}
    seen = set()
    for public_id, status, amount, refunded, disputed, fee in Donation.objects.values_list(
        "public_id", "status", "amount", "refunded", "disputed", "fee"
    ).order_by("pk").iterator(chunk_size=5000):
        report.donations += 1
        reference = f"donation:{public_id}"
        seen.add(reference)
        if status == DonationStatus.SUCCEEDED:
            if given.get(reference, 0) != amount:
                report.problems.append(f"{reference}: succeeded with {amount}, ledger received {given.get(reference, 0)}")
            if refunds.get(reference, 0) != refunded:
                report.problems.append(f"{reference}: says {refunded} refunded, ledger refunded {refunds.get(reference, 0)}")
            held = disputes.get(reference, 0) - reinstated.get(reference, 0)
            if held != disputed:
                report.problems.append(f"{reference}: says {disputed} held by disputes, ledger {held}")
            if fees.get(reference, 0) != fee:
                report.problems.append(f"{reference}: fee {fee}, ledger fee {fees.get(reference, 0)}")
        elif reference in given or reference in taken or reference in fees:
            report.problems.append(f"{reference}: {status} but has ledger transfers")
    for reference in (set(given) | set(taken) | set(fees)) - seen:
        report.problems.append(f"{reference}: ledger transfers for an unknown donation")


STRIPE_COLUMNS = {"id", "type", "source", "amount", "fee", "currency"}
CREATED_COLUMNS = ("created (utc)", "created", "created_utc")
CHARGE_COLUMNS = ("charge_id", "charge id", "charge")


def _minor(text: str, currency: str) -> int:
    value = Decimal(text.replace(",", "").strip())
    return int(value.scaleb(minor_digits(currency)))


def _check_stripe(report: ReconcileReport, export: bytes) -> None:
    """Charges match donations one by one (amount, fee, currency); refunds match per charge
    where the export names the charge, else in total; donations are only expected in the
    export when they succeeded within the period it covers."""
    from datetime import datetime

    reader = csv.DictReader(io.StringIO(export.decode("utf-8-sig")))
    header = {h.strip().lower() for h in reader.fieldnames or []}
    if not STRIPE_COLUMNS <= header:
        report.problems.append(f"Stripe export lacks the columns {sorted(STRIPE_COLUMNS - header)}")
        return
    charges: dict[str, tuple[int, int, str]] = {}
    refunds_by_charge: dict[str, int] = {}
    unattributed_refunds = 0
    period: list[datetime] = []
    for number, raw in enumerate(reader, start=2):
        row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        report.stripe_rows += 1
        currency = row["currency"].upper()
        if not is_currency(currency):
            report.problems.append(f"Stripe export line {number}: unknown currency {row['currency']!r}")
            continue
        try:
            amount, fee = _minor(row["amount"], currency), _minor(row["fee"] or "0", currency)
        except InvalidOperation:
            report.problems.append(f"Stripe export line {number}: amount {row['amount']!r} is not a number")
            continue
        created = next((row[c] for c in CREATED_COLUMNS if row.get(c)), "")
        if created:
            try:
                period.append(datetime.fromisoformat(created.replace("Z", "")).replace(tzinfo=UTC))
            except ValueError:
                report.problems.append(f"Stripe export line {number}: date {created!r} is not readable")
        charge = row["source"] if row["source"].startswith(("ch_", "py_")) else next((row[c] for c in CHARGE_COLUMNS if row.get(c)), "")
        if row["type"] in ("charge", "payment"):
            charges[row["source"]] = (amount, fee, currency)
        elif row["type"] in ("refund", "payment_refund"):
            if charge:
                refunds_by_charge[charge] = refunds_by_charge.get(charge, 0) + abs(amount)
            else:
                unattributed_refunds += abs(amount)
    donations = Donation.objects.filter(provider="stripe").filter(~Q(charge_reference="")).only(
        "public_id", "charge_reference", "amount", "fee", "refunded", "currency", "status", "succeeded_at"
    )
    if period:
        # Exports cover whole days: the period runs from the first day's start to the last day's end.
        start = min(period).replace(hour=0, minute=0, second=0, microsecond=0)
        end = max(period).replace(hour=23, minute=59, second=59, microsecond=999999)
        in_period = [d for d in donations if d.succeeded_at and start <= d.succeeded_at <= end]
    else:
        in_period = list(donations)
    by_charge = {d.charge_reference: d for d in donations}
    for charge, (amount, fee, currency) in charges.items():
        donation = by_charge.get(charge)
        if donation is None:
            report.problems.append(f"Stripe charge {charge} ({amount} {currency}) has no donation")
            continue
        if (donation.amount, donation.fee, donation.currency) != (amount, fee, currency):
            report.problems.append(
                f"Stripe charge {charge}: Stripe {amount} {currency} fee {fee}, "
                f"Zbor {donation.amount} {donation.currency} fee {donation.fee}"
            )
    for donation in in_period:
        if donation.status == DonationStatus.SUCCEEDED and donation.charge_reference not in charges:
            report.problems.append(f"donation:{donation.public_id}: charge {donation.charge_reference} is missing from the Stripe export")
        stripe_refunded = refunds_by_charge.get(donation.charge_reference)
        if stripe_refunded is not None and stripe_refunded != donation.refunded:
            report.problems.append(f"Stripe charge {donation.charge_reference}: Stripe refunded {stripe_refunded}, Zbor {donation.refunded}")
    attributed = set(refunds_by_charge)
    zbor_unattributed = sum(d.refunded for d in in_period if d.charge_reference not in attributed)
    if unattributed_refunds != zbor_unattributed:
        report.problems.append(
            f"refunds: the Stripe export has {unattributed_refunds} not named by charge, Zbor {zbor_unattributed} in the period"
        )


def _check_events(report: ReconcileReport) -> None:
    from zbor.payments.models import EventStatus, PaymentEventRecord

    for provider, event_id, status in PaymentEventRecord.objects.filter(
        status__in=[EventStatus.ATTENTION, EventStatus.FAILED]
    ).values_list("provider", "event_id", "status")[:200]:
        report.problems.append(f"{provider} event {event_id}: {status}, money may have moved without being booked")


def _check_overdrawn(report: ReconcileReport) -> None:
    """A refund after a payout can leave a need holding less than nothing: finance must cover it."""
    from django.db.models import F

    from zbor.ledger.models import Account

    for code, balance in (
        Account.objects.filter(owner_kind="campaign", credits_posted__lt=F("debits_posted"))
        .annotate(balance=F("credits_posted") - F("debits_posted"))
        .values_list("code", "balance")[:200]
    ):
        report.problems.append(f"account {code} is overdrawn by {-balance}: refunds after payouts; cover it from unallocated money")


def reconcile(*, stripe_export: bytes | None = None) -> ReconcileReport:
    report = ReconcileReport(ledger=check_ledger())
    _check_donations(report)
    _check_events(report)
    _check_overdrawn(report)
    if stripe_export is not None:
        _check_stripe(report, stripe_export)
    return report
