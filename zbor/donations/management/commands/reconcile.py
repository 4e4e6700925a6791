"""`zbor reconcile [--stripe-export FILE] [--stripe-monthly [--book-missing-months]] [--btcpay]`:
print the report; exit 1 on any difference."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from zbor.donations.reconcile import reconcile, record_run


class Command(BaseCommand):
    help = "Prove the ledger consistent with itself, the donations and (optionally) Stripe's records."

    def add_arguments(self, parser):
        parser.add_argument("--stripe-export", type=Path, help="Stripe balance transactions export (CSV)")
        parser.add_argument(
            "--stripe-monthly",
            action="store_true",
            help="Read Stripe's subscriptions and recent paid invoices and compare them with the monthly gifts",
        )
        parser.add_argument(
            "--book-missing-months",
            action="store_true",
            help="With --stripe-monthly: book the paid months whose webhook never arrived, as the webhook would",
        )
        parser.add_argument(
            "--btcpay",
            action="store_true",
            help="Read the BTCPay Server store's settled invoices, book those whose webhook never arrived, "
            "and compare them with the Bitcoin donations",
        )

    def handle(
        self,
        *args,
        stripe_export: Path | None = None,
        stripe_monthly: bool = False,
        book_missing_months: bool = False,
        btcpay: bool = False,
        **options,
    ):
        if book_missing_months and not stripe_monthly:
            raise CommandError("--book-missing-months needs --stripe-monthly")
        export = None
        if stripe_export is not None:
            try:
                export = stripe_export.read_bytes()
            except OSError as exc:
                raise CommandError(f"Cannot read {stripe_export}: {exc.strerror}") from None
        report = reconcile(
            stripe_export=export,
            stripe_monthly=stripe_monthly,
            book_missing_months=book_missing_months,
            btcpay=btcpay,
        )
        for line in report.lines():
            self.stdout.write(line)
        checked = [("stripe-export", export is not None), ("stripe-monthly", stripe_monthly), ("btcpay", btcpay)]
        record_run(report, checked=[name for name, read in checked if read])
        if not report.ok:
            sys.exit(1)
