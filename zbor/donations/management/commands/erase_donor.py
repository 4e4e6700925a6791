"""`zbor erase_donor EMAIL`: remove what Zbor holds about a donor, on their request.

The service (``zbor.donations.services.erase_donor``) clears the email, public name and words
of support of every donation made with that address, audited without it; amounts, the ledger
and every total stay exactly as they were. Monthly gifts given with the address are stopped
first (the payment provider stops billing and deletes its customer) and forget it too; a
provider that cannot be reached stops the command before anything is forgotten: run it again.
Then the old values are cleared from the database's other files too (``zbor.db.erase_residue``:
on SQLite the WAL is checkpointed and truncated; deleted content is zeroed by secure_delete).
Running it again for the same address is safe, and finishes a clean-up that readers held up.
"""

from django.core.management.base import BaseCommand, CommandError

from zbor.db import erase_residue
from zbor.donations.services import erase_donor, erase_monthly_gifts
from zbor.payments.base import ProviderUnavailable


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
        try:
            gifts = erase_monthly_gifts(email, by=None, label="zbor erase_donor")
            count = erase_donor(email, by=None, label="zbor erase_donor")
        except ProviderUnavailable:
            raise CommandError(
                "A payment provider could not be reached to stop a monthly gift, so nothing was erased yet "
                "(the gifts already stopped stay stopped). Run the same command again later."
            ) from None
        self.stdout.write(
            f"Erased the personal data of {count} donation(s) and {gifts} monthly gift(s), stopped. "
            "Amounts and the ledger are unchanged."
        )
        if not erase_residue(wait_seconds=wait):
            raise CommandError(
                "The database's write-ahead log still holds the erased values: other connections kept "
                "reading. Run the same command again in a minute."
            )
