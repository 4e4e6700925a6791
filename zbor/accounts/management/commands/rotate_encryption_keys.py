"""`zbor rotate_encryption_keys`: re-encrypt every private value and file with the first key.

Put the new key first in ZBOR_ENCRYPTION_KEYS (old keys after it), run this, then remove the
old keys. Safe to run twice. The work and its audit row are one service (zbor/accounts/keys.py).
"""

from django.core.management.base import BaseCommand

from zbor.accounts.keys import rotate_encryption_keys


class Command(BaseCommand):
    help = "Re-encrypt beneficiaries' and recipients' private data and files with the newest key."

    def handle(self, *args, **options):
        done = rotate_encryption_keys(label="zbor rotate_encryption_keys")
        self.stdout.write(
            f"Re-encrypted the private data of {done.rows} row(s) and {done.files} private file(s) with the newest key."
        )
