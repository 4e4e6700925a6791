"""The backup archive: one tar stream encrypted with age to the keepers' public keys.

Members, in this order: ``database/<vendor>.NNN`` (the dump in parts of at most ``PART_BYTES``,
so a part is the most that is ever held in memory), ``private/…`` (``ZBOR_PRIVATE_ROOT``, files
already encrypted with ``ZBOR_ENCRYPTION_KEYS``), ``media/…`` (``ZBOR_MEDIA_ROOT``), and last
``manifest.json``: format, Zbor's version, time, database vendor, the last migration of each app,
and every other member's size and SHA-256. Nothing is ever written to disk in clear: the tar is
produced into a pipe that pyrage encrypts as it reads, and read back the same way.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

import pyrage
from pyrage import x25519

FORMAT = 1
MANIFEST = "manifest.json"
PART_BYTES = 32 * 1024 * 1024
CHUNK = 1024 * 1024
#: Top-level folders a member may live in.
SECTIONS = ("database", "private", "media")


class BackupError(Exception):
    """The backup or restore cannot go on; the message is one line for the operator."""


@dataclass
class Manifest:
    zbor_version: str
    created_at: str
    vendor: str
    migrations: dict[str, str]
    members: list[dict] = field(default_factory=list)
    format: int = FORMAT

    def to_bytes(self) -> bytes:
        return json.dumps(self.__dict__, indent=1, sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        try:
            raw = json.loads(data)
            if raw.get("format") != FORMAT:
                raise BackupError(f"unknown archive format {raw.get('format')!r} (this release reads {FORMAT})")
            return cls(**raw)
        except (ValueError, TypeError) as exc:
            raise BackupError(f"the manifest cannot be read: {exc.__class__.__name__}") from None

    def parts(self, section: str) -> list[dict]:
        return [m for m in self.members if m["name"].startswith(section + "/")]


def read_recipients(path: Path) -> list[x25519.Recipient]:
    """The age public keys in ``path`` (``age1…``, one a line; blank lines and ``#`` comments skipped)."""
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise BackupError(f"cannot read the recipients file {path}: {exc.strerror}") from None
    recipients = []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            recipients.append(x25519.Recipient.from_str(line))
        except pyrage.RecipientError:
            raise BackupError(f"{path}, line {number}: not an age public key (age1...)") from None
    if not recipients:
        raise BackupError(f"{path} names no age public key (age1...): nobody could read the backup")
    return recipients


def read_identities(path: Path, *, stdin: IO[bytes] | None = None) -> list[x25519.Identity]:
    """The age identities (``AGE-SECRET-KEY-1…``) in an identity file made by age-keygen; with
    ``path`` ``-``, read from ``stdin`` (the keeper's file piped in by root, which the ``zbor``
    user could not open itself)."""
    try:
        if str(path) == "-":
            if stdin is None:
                raise BackupError("--identity -: no standard input to read the identity from")
            lines = stdin.read().decode("utf-8", "replace").splitlines()
        else:
            lines = path.read_text().splitlines()
    except OSError as exc:
        raise BackupError(f"cannot read the identity file {path}: {exc.strerror}") from None
    identities = []
    path = Path("standard input") if str(path) == "-" else path  # for the messages below
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            try:
                identities.append(x25519.Identity.from_str(line))
            except pyrage.IdentityError:
                raise BackupError(f"{path} holds a line that is not an age identity (AGE-SECRET-KEY-1...)") from None
    if not identities:
        raise BackupError(f"{path} holds no age identity (AGE-SECRET-KEY-1...)")
    return identities


def safe_name(name: str) -> str:
    """``name`` if it is a relative path inside one of the known sections, written the one way
    PurePosixPath writes it (no empty part, no ``.``, no trailing ``/``); refuses anything else.
    ``private//etc/x`` would otherwise become ``/etc/x`` once joined to a folder."""
    path = PurePosixPath(name)
    if name == MANIFEST:
        return name
    if (
        str(path) != name
        or path.is_absolute()
        or any(part in ("", ".", "..") for part in path.parts)
        or len(path.parts) < 2
        or path.parts[0] not in SECTIONS
    ):
        raise BackupError(f"the archive holds an unexpected member {name!r}")
    return name


def file_sha256(path: Path) -> str:
    """The SHA-256 of a whole archive file, as `sha256sum` prints it: `zbor backup` prints it
    (the journal keeps it) and `zbor restore` prints it again, to compare out of band."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class _Hashing:
    """A reader that hashes and counts what passes through it."""

    def __init__(self, raw: IO[bytes]):
        self.raw, self.sha256, self.size = raw, hashlib.sha256(), 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.sha256.update(data)
        self.size += len(data)
        return data


class ArchiveWriter:
    """Adds members to the tar stream and keeps their sizes and checksums for the manifest."""

    def __init__(self, tar: tarfile.TarFile):
        self.tar = tar
        self.members: list[dict] = []

    def add_bytes(self, name: str, data: bytes, *, mode: int = 0o600) -> None:
        info = tarfile.TarInfo(safe_name(name))
        info.size, info.mode = len(data), mode
        self.tar.addfile(info, io.BytesIO(data))
        self.members.append({"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})

    def add_file(self, name: str, path: Path) -> None:
        """One file from disk, streamed; a file that vanishes or changes size fails the backup."""
        try:
            with path.open("rb") as handle:
                stat = os.fstat(handle.fileno())
                info = tarfile.TarInfo(safe_name(name))
                info.size, info.mode, info.mtime = stat.st_size, stat.st_mode & 0o644, int(stat.st_mtime)
                reader = _Hashing(handle)
                self.tar.addfile(info, reader)
        except FileNotFoundError:
            raise BackupError(f"{path} vanished during the backup; run it again") from None
        except OSError as exc:
            raise BackupError(f"cannot read {path}: {exc.strerror or exc}") from None
        if reader.size != info.size:
            raise BackupError(f"{path} changed during the backup; run it again")
        self.members.append({"name": name, "size": reader.size, "sha256": reader.sha256.hexdigest()})

    def add_tree(self, section: str, root: Path) -> None:
        """Every regular file under ``root`` as ``section/<relative path>``, in a stable order."""
        if not root.exists():
            return
        for path in sorted(root.rglob("*")):
            if path.is_symlink() or not (path.is_file() or path.is_dir()):
                raise BackupError(f"{path} is not a regular file or folder; move it out of {root}")
            if path.is_file():
                self.add_file(f"{section}/{path.relative_to(root).as_posix()}", path)


def encrypt_stream(out: IO[bytes], recipients: list, produce: Callable[[IO[bytes]], None]) -> None:
    """Run ``produce(pipe)`` in a thread while pyrage encrypts what it writes into ``out``.

    Whatever fails first (the producer, the encryption, the disk) is raised here."""
    read_fd, write_fd = os.pipe()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with os.fdopen(write_fd, "wb") as pipe:
                produce(pipe)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            errors.append(exc)

    thread = threading.Thread(target=run, name="zbor-backup-tar")
    thread.start()
    try:
        with os.fdopen(read_fd, "rb") as source:
            pyrage.encrypt_io(source, out, recipients)
    except (pyrage.EncryptError, OSError) as exc:
        # The producer sees a broken pipe and stops; its error is only the echo of this one.
        thread.join()
        raise BackupError(f"cannot write the encrypted archive: {getattr(exc, 'strerror', None) or exc}") from None
    thread.join()
    if errors:
        raise errors[0]


@contextmanager
def decrypted_tar(archive: Path, identities: list) -> Iterator[tarfile.TarFile]:
    """The archive's tar stream, decrypted by pyrage in a thread as it is read."""
    read_fd, write_fd = os.pipe()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with archive.open("rb") as source, os.fdopen(write_fd, "wb") as pipe:
                pyrage.decrypt_io(source, pipe, identities)
        except BrokenPipeError:
            pass  # the reader stopped early; it says why
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            errors.append(exc)

    thread = threading.Thread(target=run, name="zbor-restore-decrypt")
    thread.start()
    pipe = os.fdopen(read_fd, "rb")
    try:
        with tarfile.open(fileobj=pipe, mode="r|") as tar:
            yield tar
        # The rest (the tar's padding), so that the age stream's last chunk is authenticated too.
        while pipe.read(CHUNK):
            pass
    except tarfile.TarError:
        thread.join()
        _raise_decrypt(errors)
        raise BackupError(f"{archive} is not a complete Zbor backup (the tar stream is damaged)") from None
    finally:
        pipe.close()
        thread.join()
    _raise_decrypt(errors)


def _raise_decrypt(errors: list[BaseException]) -> None:
    if not errors:
        return
    if isinstance(errors[0], pyrage.DecryptError):
        raise BackupError("cannot decrypt the archive: wrong identity, or the file is damaged") from None
    if isinstance(errors[0], OSError) and errors[0].errno is None:
        # age checks every 64 KiB chunk: a changed or cut byte fails where it is read.
        raise BackupError(f"the archive is damaged: {errors[0]}") from None
    if isinstance(errors[0], OSError):
        raise BackupError(f"cannot read the archive: {errors[0].strerror or errors[0]}") from None
    raise errors[0]


def member_chunks(tar: tarfile.TarFile, member: tarfile.TarInfo) -> Iterator[bytes]:
    handle = tar.extractfile(member)
    if handle is None:
        raise BackupError(f"the archive member {member.name!r} is not a file")
    while chunk := handle.read(CHUNK):
        yield chunk
