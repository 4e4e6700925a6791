"""`zbor backup [--to DIR] [--recipients FILE] [--prune-days N]`: one encrypted archive of the
database and the private and public files; exit 1, leaving nothing that looks like a backup, on
any failure."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from zbor.ops.archive import BackupError, file_sha256
from zbor.ops.backup import make_backup, prune


class Command(BaseCommand):
    help = "Write an encrypted backup (database, private and public files) for the keepers' age keys."

    def add_arguments(self, parser):
        parser.add_argument("--to", type=Path, help="folder for the archive (default: ZBOR_BACKUP_DIR)")
        parser.add_argument(
            "--recipients", type=Path, help="file of age public keys, one a line (default: ZBOR_BACKUP_RECIPIENTS)"
        )
        parser.add_argument(
            "--prune-days", type=int, help="after a successful backup, delete those in the folder older than N days"
        )

    def handle(self, *args, to=None, recipients=None, prune_days=None, **options):
        if prune_days is not None and prune_days < 1:
            raise CommandError("--prune-days must be at least 1")
        target = to or Path(settings.ZBOR_BACKUP_DIR)
        try:
            path = make_backup(target=target, recipients_file=recipients or Path(settings.ZBOR_BACKUP_RECIPIENTS))
        except BackupError as exc:
            raise CommandError(f"backup failed, nothing written: {exc}") from None
        except OSError as exc:
            raise CommandError(f"backup failed, nothing written: {exc.filename}: {exc.strerror}") from None
        self.stdout.write(f"backup written: {path} ({path.stat().st_size} bytes)")
        # To stdout, so the journal keeps it: `zbor restore` prints it again, to compare out of band.
        self.stdout.write(f"sha256: {file_sha256(path)}  {path.name}")
        if prune_days is not None:
            for old in prune(target, days=prune_days):
                self.stdout.write(f"pruned: {old}")
