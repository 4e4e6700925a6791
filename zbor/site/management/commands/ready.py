"""``zbor ready``: what ``/readyz`` says, as a command (zbor/health.py).

Prints ``ready`` and exits 0, or ``not ready: <parts>`` and exits 1, naming only the failing
parts. ``--part`` limits the checks: the task worker's unit runs ``zbor ready --part database
--part tasks`` after it starts (it uses neither the replica nor Redis's cache).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from zbor.health import PARTS, readiness


class Command(BaseCommand):
    help = "Check the database, the replica's lag, Redis and the task queue, as /readyz does."

    def add_arguments(self, parser):
        parser.add_argument(
            "--part", action="append", choices=PARTS, dest="parts", help="check only this part (repeatable)"
        )

    def handle(self, *args, **options):
        failing = readiness(options["parts"] or PARTS)
        if failing:
            raise CommandError("not ready: " + " ".join(failing), returncode=1)
        self.stdout.write("ready")
