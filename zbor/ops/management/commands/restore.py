"""`zbor restore ARCHIVE --identity FILE`: into an empty database and empty folders, then prove it
(schema, reconcile, a decrypting read); exit 1 on any failure, saying what state things are in.
`--identity -` reads the identity from standard input (root pipes the keeper's file in)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from zbor.ops.archive import BackupError
from zbor.ops.restore import restore_archive


class Command(BaseCommand):
    help = "Restore a `zbor backup` archive into an empty database and empty folders, then check it."

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path, help="the zbor-….tar.age file")
        parser.add_argument(
            "--identity", type=Path, required=True, help="an age identity file (age-keygen), or - for standard input"
        )

    def handle(self, *args, archive: Path, identity: Path, **options):
        if not archive.is_file():
            raise CommandError(f"restore failed: {archive} is not a file")
        # Whatever this process creates besides the files it sets modes for (the SQLite database
        # and its -wal/-shm, the task queue's file) is the zbor user's alone.
        os.umask(0o077)
        _private_task_queue()
        try:
            restore_archive(archive, identity_file=identity, say=self.stdout.write, stdin=sys.stdin.buffer)
        except BackupError as exc:
            raise CommandError(f"restore failed: {exc}") from None
        except DatabaseError as exc:
            first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
            raise CommandError(f"restore failed: the database: {first}") from None
        self.stdout.write("restore complete: all checks passed")


def _private_task_queue() -> None:
    """Without Redis, Django's start made the task queue's SQLite file before this command ran
    (with the caller's umask): the restored copy's tasks are the zbor user's alone too."""
    filename = settings.HUEY.get("filename")
    if not filename:
        return
    for end in ("", "-wal", "-shm"):
        path = Path(f"{filename}{end}")
        if path.is_file() and path.stat().st_uid == os.geteuid():
            path.chmod(0o600)
