"""Private files: sniffed by content, cleaned of metadata, encrypted, stored outside the web root.

Documents about beneficiaries and proofs of payment are never served by the web server: they
live under ``ZBOR_PRIVATE_ROOT`` with random names, encrypted (zbor.crypto), and reach staff
only through views that check permissions and write the audit log.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from zbor.images import clean_image

from .crypto import decrypt_bytes, encrypt_bytes, rotate

MAX_PRIVATE_FILE_BYTES = 15 * 1024 * 1024
PDF = "application/pdf"
JPEG = "image/jpeg"


@dataclass(frozen=True)
class CleanFile:
    data: bytes
    content_type: str


def _clean_pdf(data: bytes) -> bytes:
    """The same pages without the document information and XMP metadata (author, tool, dates)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ValidationError(_("Password-protected PDFs cannot be checked. Upload it without a password."))
        writer = PdfWriter()
        for page in reader.pages:
            writer.add_page(page)
        writer.add_metadata({})
        out = io.BytesIO()
        writer.write(out)
    except (PdfReadError, ValueError, KeyError, TypeError, OSError):
        raise ValidationError(_("This PDF cannot be read.")) from None
    return out.getvalue()


def clean_upload(upload) -> CleanFile:
    """A PDF or a picture, by content (not by name or declared type), without its metadata."""
    if upload.size > MAX_PRIVATE_FILE_BYTES:
        raise ValidationError(_("The file is too large: at most 15 MB."))
    upload.seek(0)
    head = upload.read(5)
    upload.seek(0)
    if head == b"%PDF-":
        return CleanFile(_clean_pdf(upload.read()), PDF)
    image = clean_image(upload)  # refuses anything that is not a picture
    return CleanFile(image.read(), JPEG)


def store(data: bytes) -> str:
    """Encrypt and write; returns the random name to keep in the database."""
    name = secrets.token_hex(16) + ".bin"
    root = settings.ZBOR_PRIVATE_ROOT
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = root / name
    path.write_bytes(encrypt_bytes(data))
    path.chmod(0o600)
    return name


def load(name: str) -> bytes:
    return decrypt_bytes((settings.ZBOR_PRIVATE_ROOT / name).read_bytes())


def rotate_file(name: str) -> None:
    """Re-encrypt a stored file with the newest key, replacing it in one rename (safe to repeat)."""
    path = settings.ZBOR_PRIVATE_ROOT / name
    rotated = rotate(path.read_bytes())
    tmp = path.with_suffix(".tmp")
    tmp.touch(mode=0o600)
    tmp.chmod(0o600)
    tmp.write_bytes(rotated)
    tmp.replace(path)


def delete(name: str) -> None:
    path = settings.ZBOR_PRIVATE_ROOT / name
    if path.exists():
        # Overwrite before unlinking: cheap, and better than leaving the ciphertext whole.
        path.write_bytes(b"\0" * path.stat().st_size)
        path.unlink()


def serve(read, *args, by, **kwargs):
    """A staff view's response for a private file: ``read(*args, by=...)`` must check the
    permission and write the audit row; without the permission the file does not exist (404)."""
    from django.core.exceptions import PermissionDenied
    from django.http import Http404, HttpResponse

    try:
        data, content_type = read(*args, by=by, **kwargs)
    except PermissionDenied:
        raise Http404 from None
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
