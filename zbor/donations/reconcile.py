"""Reconciliation: the ledger agrees with itself, with the donations, and with the provider.

Checks, each made by the database, which returns only the differences, so that time grows
with the tables but memory does not (tests/test_bench_fixture.py; bench/fixture.py makes a
million donations to measure it):

1. every account's running totals equal the sum of its transfers, every group is whole
   (zbor.ledger.checks);
2. every succeeded donation has exactly its transfers: the campaign accounts were credited
   its amount in its ``…:succeeded`` group, and reversals add up to what it says was refunded;
   a donation that did not succeed has no transfers at all;
3. given a Stripe balance-transactions export (CSV), every charge and refund in it matches
   a donation's amount, fee and refunds in the ledger, and no Stripe donation is missing
   from the export;
4. no provider event needs attention, none is stranded (received or failed longer than
   ``ZBOR_STRANDED_EVENT_SECONDS``), and no bank statement line has waited in the unmatched
   queue longer than ``ZBOR_UNMATCHED_LINE_DAYS`` (``zbor.donations.stranded``);
5. with ``stripe_monthly``, Stripe's subscriptions and recent paid invoices against the monthly
   gifts and their donations (``zbor.donations.monthly_reconcile``);
6. with ``btcpay``, the BTCPay Server store's settled invoices against the Bitcoin donations,
   booking a settled invoice whose webhook never arrived (``zbor.donations.btcpay_reconcile``);
7. the last bank statement's closing balance equals the ledger's bank balance, statements
   follow one another without a gap, and no payout paid by bank transfer, nor any bank refund,
   has waited for its statement line longer than ``ZBOR_PAYOUT_LINE_DAYS``
   (``zbor.donations.bank_balances``, ``bank_returns``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Q

from zbor.ledger.checks import LedgerReport, check_ledger
from zbor.ledger.models import Transfer, TransferGroup, TransferKind
from zbor.payments.stripe import BalanceExport, parse_balance_export

from . import bank_balances, bank_returns, btcpay_reconcile, monthly_reconcile, stranded
from .models import Donation, DonationStatus, ReconcileRun


@dataclass
class ReconcileReport:
    ledger: LedgerReport
    donations: int = 0
    stripe_rows: int = 0
    #: Stripe subscriptions and paid invoices read (``stripe_monthly``), None when not read.
    stripe_billing: tuple[int, int] | None = None
    #: BTCPay's settled invoices read (``btcpay``), None when not read.
    btcpay_settled: int | None = None
    #: Months booked by this run (``book_missing_months``), one line each.
    booked: list[str] = field(default_factory=list)
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
        if self.stripe_billing is not None:
            out.append(
                f"Stripe subscriptions checked: {self.stripe_billing[0]}, paid invoices: {self.stripe_billing[1]}"
            )
        if self.btcpay_settled is not None:
            out.append(f"BTCPay settled invoices checked: {self.btcpay_settled}")
        out += [f"BOOKED: {line}" for line in self.booked]
        problems = self.ledger.problems + self.problems
        out += [f"DIFFERENCE: {p}" for p in problems] or ["clean: no differences"]
        return out


#: The transfer kinds a donation's groups hold. All but reinstatements count as "has ledger
#: transfers" (a reinstatement alone was never booked against a donation).
DONATION_KINDS = (
    TransferKind.DONATION,
    TransferKind.REFUND,
    TransferKind.DISPUTE,
    TransferKind.REINSTATEMENT,
    TransferKind.FEE,
)
BOOKED_KINDS = (TransferKind.DONATION, TransferKind.REFUND, TransferKind.DISPUTE, TransferKind.FEE)


def _reference_sql() -> str:
    """SQL for the ledger reference of donation row ``d``, ``donation:<public id>``, exactly as
    ``Donation.reference`` writes it (the UUID in lowercase, with hyphens)."""
    if connection.vendor == "postgresql":
        return "('donation:' || CAST(d.public_id AS text))"
    # SQLite keeps a UUID as 32 hexadecimal digits.
    hyphenated = " || '-' || ".join(
        f"SUBSTR(d.public_id, {start}, {length})" for start, length in ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))
    )
    return f"('donation:' || LOWER({hyphenated}))"


def _sums_sql() -> tuple[str, list[str]]:
    """Per group reference, its transfers' sums by kind and how many were booked: one pass
    over the transfers. Columns: reference, then one per DONATION_KINDS, then ``booked``."""
    quote = connection.ops.quote_name
    # Each sum is NULL when the reference has no transfer of its kind.
    sums = ", ".join(f"SUM(t.amount) FILTER (WHERE t.kind = %s) AS {quote(str(kind))}" for kind in DONATION_KINDS)
    kinds = ", ".join(["%s"] * len(DONATION_KINDS))
    booked = ", ".join(["%s"] * len(BOOKED_KINDS))
    # SQLite takes a CROSS JOIN as an inner join in the order written: reading the transfers
    # in storage order and each one's group by its primary key is about twice as fast as the
    # plan it picks otherwise (walk the reference index, search each group's transfers).
    join = "INNER JOIN" if connection.vendor == "postgresql" else "CROSS JOIN"
    sql = f"""
        SELECT g.reference AS reference, {sums}, COUNT(*) FILTER (WHERE t.kind IN ({booked})) AS booked
        FROM {quote(Transfer._meta.db_table)} t
        {join} {quote(TransferGroup._meta.db_table)} g ON g.id = t.group_id
        WHERE t.kind IN ({kinds})
        GROUP BY g.reference
    """  # noqa: S608 - names from the models, values as parameters
    return sql, [str(k) for k in (*DONATION_KINDS, *BOOKED_KINDS, *DONATION_KINDS)]


def _differences_sql() -> tuple[str, list[str]]:
    """Rows ``(part, donation id, public id, status, amount, refunded, disputed, fee, ledger
    given, refunded, held by disputes, fee, reference)`` for each donation that differs from its
    ledger transfers, in pk order, then (donation columns NULL) each reference with booked
    transfers that names no donation, by reference.

    The database compares; only differences come back. PostgreSQL does it in one full join;
    SQLite (which has no FULL JOIN before 3.39) in a left join and an anti-join that share the
    sums (a common table expression used twice is computed once).
    """
    quote = connection.ops.quote_name
    donations = quote(Donation._meta.db_table)
    sums, sums_params = _sums_sql()
    given, refund, dispute, reinstated, fee = (f"COALESCE(s.{quote(str(kind))}, 0)" for kind in DONATION_KINDS)
    reference = _reference_sql()
    columns = (
        f"d.id, d.public_id, d.status, d.amount, d.refunded, d.disputed, d.fee, "
        f"{given}, {refund}, {dispute} - {reinstated}, {fee}, s.reference"
    )
    succeeded = str(DonationStatus.SUCCEEDED)
    differs = f"""
        (d.status = %s AND ({given} <> d.amount OR {refund} <> d.refunded
                            OR {dispute} - {reinstated} <> d.disputed OR {fee} <> d.fee))
        OR (d.status <> %s AND COALESCE(s.booked, 0) > 0)
    """
    if connection.vendor == "postgresql":
        sql = f"""
            SELECT 0, {columns} FROM {donations} d FULL JOIN ({sums}) s ON s.reference = {reference}
            WHERE (d.id IS NULL AND s.booked > 0) OR (d.id IS NOT NULL AND ({differs}))
            ORDER BY d.id NULLS LAST, s.reference
        """  # noqa: S608 - names from the models, values as parameters
        return sql, [*sums_params, succeeded, succeeded]
    nothing = ", ".join(["NULL"] * 11)
    sql = f"""
        WITH s AS ({sums})
        SELECT * FROM (
            SELECT 0 AS part, {columns} FROM {donations} d LEFT JOIN s ON s.reference = {reference}
            WHERE {differs}
            UNION ALL
            SELECT 1 AS part, {nothing}, s.reference FROM s
            WHERE s.booked > 0 AND NOT EXISTS (
                -- the first condition finds the candidate by its unique index, the second is exact
                SELECT 1 FROM {donations} d WHERE d.public_id = REPLACE(SUBSTR(s.reference, 10), '-', '') AND {reference} = s.reference
            )
        ) AS differences
        ORDER BY 1, 2, 13
    """  # noqa: S608 - names from the models, values as parameters
    return sql, [*sums_params, succeeded, succeeded]


def _check_donations(report: ReconcileReport) -> None:
    """Every succeeded donation has exactly its transfers, every other none, and every booked
    reference names a donation. Compared in the database: only the differences come back,
    so memory stays flat however many donations and transfers there are."""
    public_id = Donation._meta.get_field("public_id")
    sql, params = _differences_sql()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(Donation._meta.db_table)}")  # noqa: S608
        report.donations = cursor.fetchone()[0]
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(1000):
            for (
                _part,
                pk,
                uid,
                status,
                amount,
                refunded,
                disputed,
                fee,
                given,
                ledger_refunded,
                held,
                ledger_fee,
                ref,
            ) in rows:
                if pk is None:
                    report.problems.append(f"{ref}: ledger transfers for an unknown donation")
                    continue
                reference = f"donation:{public_id.to_python(uid)}"
                # PostgreSQL sums integers as numeric (Decimal): back to int, for the messages.
                given, ledger_refunded, held, ledger_fee = int(given), int(ledger_refunded), int(held), int(ledger_fee)
                if status != DonationStatus.SUCCEEDED:
                    report.problems.append(f"{reference}: {status} but has ledger transfers")
                    continue
                if given != amount:
                    report.problems.append(f"{reference}: succeeded with {amount}, ledger received {given}")
                if ledger_refunded != refunded:
                    report.problems.append(f"{reference}: says {refunded} refunded, ledger refunded {ledger_refunded}")
                if held != disputed:
                    report.problems.append(f"{reference}: says {disputed} held by disputes, ledger {held}")
                if ledger_fee != fee:
                    report.problems.append(f"{reference}: fee {fee}, ledger fee {ledger_fee}")


def _check_stripe(report: ReconcileReport, data: bytes) -> None:
    """Charges match donations one by one (amount, fee, currency); refunds match per charge
    where the export names the charge, else in total; donations are only expected in the
    export when they succeeded within the period it covers. Reading the export is the Stripe
    provider's (``zbor.payments.stripe.parse_balance_export``); here the two are compared."""
    export = parse_balance_export(data)
    report.stripe_rows += export.rows
    report.problems += export.problems
    if not export.readable:
        return
    donations = list(
        Donation.objects.filter(provider="stripe")
        .filter(~Q(charge_reference=""))
        .only("public_id", "charge_reference", "amount", "fee", "refunded", "currency", "status", "succeeded_at")
    )
    period = export.period()
    in_period = (
        [d for d in donations if d.succeeded_at and period[0] <= d.succeeded_at <= period[1]] if period else donations
    )
    _compare_charges(report, export, {d.charge_reference: d for d in donations})
    _compare_donations(report, export, in_period)


def _compare_charges(report: ReconcileReport, export: BalanceExport, by_charge: dict[str, Donation]) -> None:
    """Every charge in the export is a donation with the same amount, fee and currency."""
    for charge, (amount, fee, currency) in export.charges.items():
        donation = by_charge.get(charge)
        if donation is None:
            report.problems.append(f"Stripe charge {charge} ({amount} {currency}) has no donation")
        elif (donation.amount, donation.fee, donation.currency) != (amount, fee, currency):
            report.problems.append(
                f"Stripe charge {charge}: Stripe {amount} {currency} fee {fee}, "
                f"Zbor {donation.amount} {donation.currency} fee {donation.fee}"
            )


def _compare_donations(report: ReconcileReport, export: BalanceExport, in_period: list[Donation]) -> None:
    """Every Stripe donation that succeeded in the export's period is in it, with its refunds."""
    for donation in in_period:
        if donation.status == DonationStatus.SUCCEEDED and donation.charge_reference not in export.charges:
            report.problems.append(
                f"donation:{donation.public_id}: charge {donation.charge_reference} is missing from the Stripe export"
            )
        stripe_refunded = export.refunds_by_charge.get(donation.charge_reference)
        if stripe_refunded is not None and stripe_refunded != donation.refunded:
            report.problems.append(
                f"Stripe charge {donation.charge_reference}: Stripe refunded {stripe_refunded}, Zbor {donation.refunded}"
            )
    zbor_unattributed = sum(d.refunded for d in in_period if d.charge_reference not in export.refunds_by_charge)
    if export.unattributed_refunds != zbor_unattributed:
        report.problems.append(
            f"refunds: the Stripe export has {export.unattributed_refunds} not named by charge, "
            f"Zbor {zbor_unattributed} in the period"
        )


def _check_events(report: ReconcileReport) -> None:
    """Events that need a person, one by one; events still received or failed, and bank lines
    unassigned, once they have waited too long (a failure is the retry task's to finish first)."""
    from zbor.payments.models import EventStatus, PaymentEventRecord

    for provider, event_id, status in PaymentEventRecord.objects.filter(
        status__in=[EventStatus.ATTENTION, EventStatus.REVIEW]
    ).values_list("provider", "event_id", "status")[:200]:
        if status == EventStatus.REVIEW:
            report.problems.append(f"{provider} event {event_id}: its amount differs, waiting for finance to decide")
        else:
            report.problems.append(f"{provider} event {event_id}: {status}, money may have moved without being booked")
    report.problems += stranded.problems()


def _check_overdrawn(report: ReconcileReport) -> None:
    """No campaign account holds less than nothing: a refund of money already paid out is
    covered when it is booked (``services.reversals``), so one that does was written some other
    way, and finance must look."""
    from django.db.models import F

    from zbor.ledger.models import Account

    for code, balance in (
        Account.objects.filter(owner_kind="campaign", credits_posted__lt=F("debits_posted"))
        .annotate(balance=F("credits_posted") - F("debits_posted"))
        .values_list("code", "balance")[:200]
    ):
        report.problems.append(
            f"account {code} is overdrawn by {-balance}: a campaign account below zero; look at its transfers"
        )


@contextmanager
def _one_snapshot() -> Iterator[None]:
    """On PostgreSQL, outside a transaction, run every check on one snapshot of the database
    (REPEATABLE READ, read only), so donations confirmed while reconcile runs cannot show up
    in one query and not in the next as false differences. SQLite readers in WAL mode hold a
    snapshot only within a transaction, which there would block writers: it runs as is."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            # The checks' joins over whole tables look expensive enough to the planner to be
            # compiled, which costs seconds per query and saves nothing here.
            cursor.execute("SET LOCAL jit = off")
        yield


def reconcile(
    *,
    stripe_export: bytes | None = None,
    stripe_monthly: bool = False,
    book_missing_months: bool = False,
    btcpay: bool = False,
) -> ReconcileReport:
    """The report; ``stripe_monthly`` reads Stripe Billing too (before the database's snapshot,
    so that nothing booked meanwhile is a false difference) and ``book_missing_months`` books the
    paid months whose webhook never arrived, through the webhook's path, before the checks.
    ``btcpay`` reads the BTCPay store, and books its settled invoices whose webhook never
    arrived, before the checks too."""
    billing = monthly_reconcile.read_billing(book_missing=book_missing_months) if stripe_monthly else None
    store = btcpay_reconcile.reconcile_store() if btcpay else None
    with _one_snapshot():
        report = ReconcileReport(ledger=check_ledger())
        if store is not None:
            report.btcpay_settled = store.settled
            report.booked += store.booked
            report.problems += store.problems
        if billing is not None:
            report.stripe_billing = (len(billing.subscriptions), len(billing.invoices))
            report.booked = billing.booked
            report.problems += monthly_reconcile.problems(billing)
        _check_donations(report)
        _check_events(report)
        _check_overdrawn(report)
        report.problems += bank_balances.problems()
        report.problems += bank_returns.problems()
        if stripe_export is not None:
            _check_stripe(report, stripe_export)
    return report


def record_run(report: ReconcileReport, *, checked: list[str]) -> ReconcileRun:
    """Keep when this run finished and how many differences it found (the metrics' reconcile
    age and result; ``checked`` names the providers' records it read too)."""
    return ReconcileRun.objects.create(
        differences=len(report.ledger.problems) + len(report.problems), checked=" ".join(checked)
    )
