"""`zbor rotate_encryption_keys`: re-encrypt every private value and file with the first key.

Put the new key first in ZBOR_ENCRYPTION_KEYS (old keys after it), run this, then remove the
old keys. Safe to run twice.
"""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from zbor.campaigns.models import Beneficiary, BeneficiaryDocument
from zbor.crypto import rotate
from zbor.disbursements.models import Payout


def _rotate_text(token: str) -> str:
    return rotate(token.encode()).decode() if token else ""


class Command(BaseCommand):
    help = "Re-encrypt beneficiaries' and recipients' private data and files with the newest key."

    def handle(self, *args, **options):
        fields = ["real_name_secret", "contacts_secret", "verification_notes_secret"]
        with transaction.atomic():
            for beneficiary in Beneficiary.objects.select_for_update().iterator():
                for field in fields:
                    setattr(beneficiary, field, _rotate_text(getattr(beneficiary, field)))
                beneficiary.save(update_fields=fields)
            for document in BeneficiaryDocument.objects.select_for_update().iterator():
                document.label_secret = _rotate_text(document.label_secret)
                document.save(update_fields=["label_secret"])
            for payout in Payout.objects.select_for_update().iterator():
                payout.recipient_secret = _rotate_text(payout.recipient_secret)
                payout.save(update_fields=["recipient_secret"])
        names = list(BeneficiaryDocument.objects.values_list("stored_name", flat=True))
        names += list(Payout.objects.exclude(proof_name="").values_list("proof_name", flat=True))
        for name in names:
            path = settings.ZBOR_PRIVATE_ROOT / name
            rotated = rotate(path.read_bytes())
            tmp = path.with_suffix(".tmp")
            tmp.touch(mode=0o600)
            tmp.chmod(0o600)
            tmp.write_bytes(rotated)
            tmp.replace(path)
        self.stdout.write(f"Re-encrypted the private data and {len(names)} private file(s) with the newest key.")
