"""`zbor erase-donor EMAIL`: remove what Zbor holds about a donor, on their request.

Clears the email, public name and words of support of every donation made with that address.
Amounts, the ledger and every total stay exactly as they were. Audited (without the address).
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from zbor.accounts.services import audit
from zbor.donations.models import Donation, MessageStatus


class Command(BaseCommand):
    help = "Erase a donor's personal data (email, public name, message); totals and the ledger are unchanged."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email: str, **options):
        with transaction.atomic():
            count = Donation.objects.filter(email__iexact=email.strip()).update(
                email="", public_name="", message="", message_status=MessageStatus.NONE
            )
            audit(None, "donor.erase", fields=["email", "public_name", "message"], label="zbor erase-donor")
        self.stdout.write(f"Erased the personal data of {count} donation(s). Amounts and the ledger are unchanged.")
