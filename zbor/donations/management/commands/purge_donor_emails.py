from django.conf import settings
from django.core.management.base import BaseCommand

from zbor.donations.services import purge_expired_emails


class Command(BaseCommand):
    help = "Forget receipt emails of donations older than ZBOR_EMAIL_RETENTION_DAYS that never got a receipt."

    def handle(self, *args, **options):
        count = purge_expired_emails()
        self.stdout.write(f"Forgot {count} email address(es) older than {settings.ZBOR_EMAIL_RETENTION_DAYS} days.")
