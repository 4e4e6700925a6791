"""`zbor erase_donor EMAIL`: remove what Zbor holds about a donor, on their request.

The service (``zbor.donations.services.erase_donor``) clears the email, public name and words
of support of every donation made with that address, audited without it; amounts, the ledger
and every total stay exactly as they were.
Then the old values are cleared from the database's other files too (``zbor.db.erase_residue``:
on SQLite the WAL is checkpointed and truncated; deleted content is zeroed by secure_delete).
Running it again for the same address is safe, and finishes a clean-up that readers held up.
"""

from django.core.management.base import BaseCommand, CommandError

from zbor.db import erase_residue
from zbor.donations.services import erase_donor


class Command(BaseCommand):
    help = "Erase a donor's personal data (email, public name, message); totals and the ledger are unchanged."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument(
            "--wait",
            type=float,
            default=20.0,
            help="seconds to wait for readers of the database before clearing its write-ahead log (default 20)",
        )

    def handle(self, *args, email: str, wait: float, **options):
        if not 0 <= wait <= 600:
            raise CommandError("--wait must be between 0 and 600 seconds.")
        count = erase_donor(email, by=None, label="zbor erase_donor")
        self.stdout.write(f"Erased the personal data of {count} donation(s). Amounts and the ledger are unchanged.")
        if not erase_residue(wait_seconds=wait):
            raise CommandError(
                "The database's write-ahead log still holds the erased values: other connections kept "
                "reading. Run the same command again in a minute."
            )
