"""`zbor failure_mail UNIT`: mail ZBOR_ALERT_EMAILS that a systemd unit failed, with its last
journal lines (deploy/systemd/zbor-failure-mail@.service runs it)."""

from __future__ import annotations

from smtplib import SMTPException

from django.core.management.base import BaseCommand, CommandError

from zbor.ops.alerts import NoAlertAddress, mail_failure


class Command(BaseCommand):
    help = "Mail the admins (ZBOR_ALERT_EMAILS) that a systemd unit failed, with its last journal lines."

    def add_arguments(self, parser):
        parser.add_argument("unit", help="the failed unit, e.g. zbor-backup.service")

    def handle(self, *args, unit: str, **options):
        try:
            mail_failure(unit)
        except (ValueError, NoAlertAddress) as exc:
            raise CommandError(str(exc)) from None
        except (SMTPException, OSError) as exc:
            raise CommandError(f"cannot send the mail: {exc.__class__.__name__}") from None
        self.stdout.write(f"mailed: {unit} failed")
