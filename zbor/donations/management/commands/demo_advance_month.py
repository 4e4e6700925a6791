"""``zbor demo_advance_month``: bill every active demo monthly gift once (demo settings only)."""

from django.core.management.base import BaseCommand

from zbor.donations.demo_monthly import advance_demo_month


class Command(BaseCommand):
    help = "Bill every active demo monthly gift one month (demo settings only)."

    def handle(self, *args, **options):
        billed, booked = advance_demo_month()
        self.stdout.write(f"{billed} demo monthly gift(s) billed, {booked} payment(s) booked.")
