"""`zbor reconcile [--stripe-export FILE]`: print the report; exit 1 on any difference."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from zbor.donations.reconcile import reconcile


class Command(BaseCommand):
    help = "Prove the ledger consistent with itself, the donations and (optionally) a Stripe export."

    def add_arguments(self, parser):
        parser.add_argument("--stripe-export", type=Path, help="Stripe balance transactions export (CSV)")

    def handle(self, *args, stripe_export: Path | None = None, **options):
        export = None
        if stripe_export is not None:
            try:
                export = stripe_export.read_bytes()
            except OSError as exc:
                raise CommandError(f"Cannot read {stripe_export}: {exc.strerror}") from None
        report = reconcile(stripe_export=export)
        for line in report.lines():
            self.stdout.write(line)
        if not report.ok:
            sys.exit(1)
