"""``zbor restore ARCHIVE --identity FILE``: into an empty database and empty folders only.

1. Refuse unless the database has no tables and ``ZBOR_PRIVATE_ROOT`` and ``ZBOR_MEDIA_ROOT``
   are empty (or missing): a restore never mixes with or overwrites live data.
2. Decrypt once and check every member against the manifest (size and SHA-256) before touching
   anything.
3. Decrypt again: the database (``pg_restore --single-transaction``, or SQLite's backup API),
   then the files, each checked again as it is written.
4. Prove it: the schema matches this release (``migrate --check``), the ledger reconciles (the
   code of ``zbor reconcile``), and ``ZBOR_ENCRYPTION_KEYS`` open one private record and one
   private file.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

from zbor import private_files
from zbor.crypto import UnreadableSecret, decrypt_text, registered_encrypted
from zbor.donations.reconcile import reconcile

from . import databases
from .archive import (
    MANIFEST,
    BackupError,
    Manifest,
    decrypted_tar,
    file_sha256,
    member_chunks,
    read_identities,
    safe_name,
)
from .backup import last_migrations

Say = Callable[[str], None]
ROOTS = {"private": (0o700, 0o600), "media": (0o755, 0o644)}


def _roots() -> dict[str, Path]:
    return {"private": Path(settings.ZBOR_PRIVATE_ROOT), "media": Path(settings.MEDIA_ROOT)}


def check_empty() -> None:
    if not databases.is_empty():
        raise BackupError("the database is not empty; restore only into a new, empty database")
    for section, root in _roots().items():
        if root.exists() and any(root.iterdir()):
            raise BackupError(f"{root} ({section} files) is not empty; restore only into empty folders")


def verify(archive: Path, identities: list) -> Manifest:
    """The manifest, once every member of the archive matched it; nothing is written."""
    seen: list[dict] = []
    manifest = None
    with decrypted_tar(archive, identities) as tar:
        for member in tar:
            name = safe_name(member.name)
            if manifest is not None:
                raise BackupError(f"the archive holds {name!r} after its manifest")
            if not member.isfile():
                raise BackupError(f"the archive member {name!r} is not a file")
            digest, size = hashlib.sha256(), 0
            data = b""
            for chunk in member_chunks(tar, member):
                digest.update(chunk)
                size += len(chunk)
                if name == MANIFEST:
                    data += chunk
            if name == MANIFEST:
                manifest = Manifest.from_bytes(data)
            else:
                seen.append({"name": name, "size": size, "sha256": digest.hexdigest()})
    if manifest is None:
        raise BackupError(f"{archive} has no manifest: it is not a complete Zbor backup")
    if seen != manifest.members:
        raise BackupError(f"{archive} does not match its manifest (a member is missing, added or damaged)")
    return manifest


def _checked(member, expected: dict, chunks: Iterator[bytes]) -> Iterator[bytes]:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
        yield chunk
    if digest.hexdigest() != expected["sha256"]:
        raise BackupError(f"{member.name} changed since it was checked")


def _write_file(root: Path, relative: str, chunks: Iterator[bytes], modes: tuple[int, int]) -> None:
    """Folders and the file with ``modes`` exactly, whatever the umask (``zbor restore`` runs
    with 077, which would leave the public media unreadable by nginx)."""
    path = root / relative
    for parent in reversed(path.relative_to(root).parents):
        if str(parent) != "." and not (root / parent).is_dir():
            (root / parent).mkdir(mode=modes[0])
            os.chmod(root / parent, modes[0])
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, modes[1])
    os.fchmod(fd, modes[1])
    with open(fd, "wb") as out:
        for chunk in chunks:
            out.write(chunk)


def load(archive: Path, identities: list, manifest: Manifest, state: list[str]) -> None:
    """Write the database, then the files; ``state`` says how far it got."""
    expected = {m["name"]: m for m in manifest.members}
    roots = _roots()
    with decrypted_tar(archive, identities) as tar:
        members = iter(tar)
        member = next(members, None)

        def database_parts() -> Iterator[bytes]:
            nonlocal member
            while member is not None and member.name.startswith("database/"):
                if member.name not in expected:
                    raise BackupError(f"the archive holds {member.name!r}, which its manifest does not list")
                yield from _checked(member, expected[member.name], member_chunks(tar, member))
                member = next(members, None)

        state.append("database")
        databases.restore(database_parts(), manifest.vendor)
        state.append("files")
        for section, root in roots.items():
            if not root.is_dir():
                root.mkdir(parents=True, mode=ROOTS[section][0])
                os.chmod(root, ROOTS[section][0])
        while member is not None and member.name != MANIFEST:
            section, relative = safe_name(member.name).split("/", 1)
            if member.name not in expected:  # the file changed since verify() read it
                raise BackupError(f"the archive holds {member.name!r}, which its manifest does not list")
            chunks = _checked(member, expected[member.name], member_chunks(tar, member))
            _write_file(roots[section], relative, chunks, ROOTS[section])
            member = next(members, None)
    state.append("checks")


def check_schema(manifest: Manifest) -> str:
    connection = connections["default"]
    executor = MigrationExecutor(connection)
    unknown = set(executor.recorder.applied_migrations()) - set(executor.loader.graph.nodes)
    if unknown:
        raise BackupError(
            f"the backup has {len(unknown)} migration(s) this release does not know: use a newer release"
        )
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        raise BackupError(f"the restored schema lacks {len(plan)} migration(s) of this release: run zbor migrate")
    if last_migrations() != manifest.migrations:
        raise BackupError("the restored migrations differ from the manifest's")
    return "schema: matches this release (migrate --check)"


def check_reconcile(say: Say) -> None:
    report = reconcile()
    for line in report.lines():
        say(f"reconcile: {line}")
    if not report.ok:
        raise BackupError("the restored ledger does not reconcile (the differences are above)")


def check_private_read() -> list[str]:
    """Open one encrypted field and one private file with ZBOR_ENCRYPTION_KEYS (the values are not shown)."""
    field_done = ""
    for entry in registered_encrypted():
        label = entry.model._meta.label_lower
        for name in entry.fields if not field_done else ():
            token = entry.model.objects.exclude(**{name: ""}).values_list(name, flat=True).first()
            if token:
                _open(partial(decrypt_text, token), f"{label}.{name}")
                field_done = f"private data: {label}.{name} of one record opens with ZBOR_ENCRYPTION_KEYS"
                break
    return [field_done or "private data: the backup holds no encrypted record to read", *_check_private_files()]


def _check_private_files() -> list[str]:
    """Open the first private file the database names; count those it names that are not there
    (deleted by a purge between the dump and the file copy: the next backup will agree)."""
    root = Path(settings.ZBOR_PRIVATE_ROOT)
    opened, missing = "", 0
    for entry in registered_encrypted():
        if not entry.file_field:
            continue
        rows = entry.model.objects.exclude(**{f"{entry.file_field}__in": entry.not_files})
        for stored in rows.values_list(entry.file_field, flat=True).iterator():
            if not (root / stored).is_file():
                missing += 1
            elif not opened:
                label = entry.model._meta.label_lower
                _open(partial(private_files.load, stored), f"a private file of {label}")
                opened = f"private files: one of {label} opens with ZBOR_ENCRYPTION_KEYS"
    lines = [opened or "private files: the backup holds no private file to read"]
    if missing:
        lines.append(f"private files: WARNING: {missing} named in the database are not in the backup")
    return lines


def _open(read: Callable[[], object], what: str) -> None:
    try:
        read()
    except UnreadableSecret:
        raise BackupError(
            f"ZBOR_ENCRYPTION_KEYS do not open {what}: bring the keys this backup was made with"
        ) from None
    except OSError as exc:
        raise BackupError(f"cannot read {what}: {exc.strerror}") from None


def restore_archive(archive: Path, *, identity_file: Path, say: Say, stdin: IO[bytes] | None = None) -> None:
    """Restore ``archive`` and prove it; raises BackupError naming what is left where.
    ``identity_file`` ``-`` reads the identity from ``stdin``."""
    identities = read_identities(identity_file, stdin=stdin)
    check_empty()
    # The age of the archive says who could read it, not who wrote it: anyone holding a
    # recipient's public key can make one. Compare this with the one `zbor backup` printed.
    say(f"sha256: {file_sha256(archive)}  {archive.name} (compare with the backup's, out of band)")
    manifest = verify(archive, identities)
    if manifest.vendor != databases.vendor():
        raise BackupError(f"the archive holds a {manifest.vendor} database; this server uses {databases.vendor()}")
    say(
        f"checked: {len(manifest.members)} members match the manifest (Zbor {manifest.zbor_version}, "
        f"{manifest.vendor}, made {manifest.created_at})"
    )
    state: list[str] = []
    try:
        load(archive, identities, manifest, state)
    except (BackupError, OSError) as exc:
        raise BackupError(f"{_message(exc)}. {_left(state)}") from None
    say(f"restored: the database and {len(manifest.members) - len(manifest.parts('database'))} files")
    try:
        say(check_schema(manifest))
        check_reconcile(say)
        for line in check_private_read():
            say(line)
    except BackupError as exc:
        raise BackupError(f"{exc}. The restored data is in place: investigate, then drop it") from None


def _message(exc: Exception) -> str:
    return (
        str(exc) if isinstance(exc, BackupError) else f"cannot write a file: {getattr(exc, 'strerror', None) or exc}"
    )


def _left(state: list[str]) -> str:
    if not state:
        return "Nothing was written."
    if state[-1:] == ["database"]:
        return (
            "The database restore stopped; PostgreSQL's single transaction was rolled back unless the "
            "error came after it: check the database is empty (or drop and create it) before trying again."
        )
    return (
        "The database is restored but the files are only partly written: drop the database and empty "
        f"{settings.ZBOR_PRIVATE_ROOT} and {settings.MEDIA_ROOT} before trying again."
    )
