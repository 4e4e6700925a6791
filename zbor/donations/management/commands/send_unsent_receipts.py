"""`zbor send_unsent_receipts`: send now the receipts (then the credit notes) the task queue
never sent.

The worker's sweep does this every five minutes; this is for an operator who brought the
broker or the mail server back and does not want to wait, or who runs no worker for a while.
Each receipt is claimed before it is sent, so running it beside the worker sends none twice.
"""

from django.core.management.base import BaseCommand, CommandError

from zbor.donations.credit_notes import send_unsent_credit_notes
from zbor.donations.receipts import SWEEP_BATCH, send_unsent_receipts


class Command(BaseCommand):
    help = "Send the receipts and credit notes that are due and were never sent (each at most once)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch", type=int, default=SWEEP_BATCH, help=f"receipts to send at most (default {SWEEP_BATCH})"
        )

    def handle(self, *args, batch: int, **options):
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        result = send_unsent_receipts(batch=batch)
        self.stdout.write(f"Sent {result.sent} receipt(s); {result.failed} failed.")
        if not result.stopped:
            result = send_unsent_credit_notes(batch=batch)
            self.stdout.write(f"Sent {result.sent} credit note(s); {result.failed} failed.")
        if result.stopped:
            raise CommandError("Stopped: the mail server cannot be reached. The receipts stay due; try again later.")
