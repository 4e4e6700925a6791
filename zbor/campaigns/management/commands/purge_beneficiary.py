"""`zbor purge_beneficiary REFERENCE`: destroy a beneficiary's private data for good.

The public (pseudonymous) page, the campaign and the ledger stay exactly as they are. Audited.
"""

from django.core.management.base import BaseCommand, CommandError

from zbor.campaigns.models import Beneficiary
from zbor.campaigns.private import purge_private
from zbor.db import erase_residue


class Command(BaseCommand):
    help = "Destroy a beneficiary's real name, contacts, verification notes and documents. Cannot be undone."

    def add_arguments(self, parser):
        parser.add_argument("reference", help="the beneficiary's internal reference, e.g. B-0042")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, reference: str, yes: bool, **options):
        beneficiary = Beneficiary.objects.filter(reference=reference).first()
        if beneficiary is None:
            raise CommandError(f"No beneficiary has the reference {reference!r}.")
        if not yes:
            answer = input(
                f"Destroy all private data of {reference}? This cannot be undone. Type the reference to confirm: "
            )
            if answer.strip() != reference:
                raise CommandError("Not confirmed; nothing was changed.")
        purge_private(beneficiary, label="zbor purge_beneficiary")
        self.stdout.write(f"Private data of {reference} destroyed. The public page and the ledger are unchanged.")
        if not erase_residue():
            raise CommandError(
                "The database's write-ahead log still holds the old (encrypted) values: other connections "
                "kept reading. Run the same command again in a minute."
            )
