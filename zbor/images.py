"""Uploaded pictures: checked by content, scaled down, and re-encoded without any metadata.

Re-encoding from pixels is the only reliable way to drop EXIF (GPS position, camera serial,
time), XMP, IPTC and ICC comments: copying the file and deleting known tags misses the rest.
Used by campaign pictures (zbor.campaigns.forms) and private files (zbor.private_files), so it
lives at the root and imports no app.
"""

from __future__ import annotations

import io

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
# Decompression bombs: refuse pictures above this many pixels before decoding them.
MAX_PIXELS = 40_000_000


def clean_image(upload) -> ContentFile:
    """A metadata-free JPEG of the uploaded picture, or ValidationError saying what is wrong."""
    if upload.size > settings.ZBOR_MAX_IMAGE_BYTES:
        raise ValidationError(
            _("The picture is too large: at most %(mb)s MB.") % {"mb": settings.ZBOR_MAX_IMAGE_BYTES // (1024 * 1024)}
        )
    upload.seek(0)
    try:
        with Image.open(upload) as probe:
            kind = probe.format
            width, height = probe.size
        if kind not in ACCEPTED_FORMATS:
            raise ValidationError(_("Upload a JPEG, PNG, WebP or GIF picture."))
        if width * height > MAX_PIXELS:
            raise ValidationError(_("The picture has too many pixels."))
        upload.seek(0)
        with Image.open(upload) as original:
            original.load()
            picture = ImageOps.exif_transpose(original)
            picture = picture.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError, ValueError):
        raise ValidationError(_("This file is not a picture Zbor can read.")) from None
    picture.thumbnail((settings.ZBOR_MAX_IMAGE_SIDE, settings.ZBOR_MAX_IMAGE_SIDE))
    # A fresh image from raw pixels carries no info dict, EXIF, XMP or ICC profile.
    clean = Image.new("RGB", picture.size)
    clean.paste(picture)
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=85, optimize=True, progressive=True)
    return ContentFile(out.getvalue(), name="cover.jpg")


# Covers are shown 16:9 everywhere (cards, the campaign page), so every variant is cropped to
# that shape around the centre: the page can reserve the exact box before the picture arrives.
COVER_RATIO = (16, 9)
COVER_WIDTHS = (480, 800, 1200)
#: Modern formats first: a browser takes the first <source> type it can show, JPEG is the fallback.
COVER_FORMATS = ("avif", "webp", "jpg")
_ENCODERS = {
    "avif": ("AVIF", {"quality": 55, "speed": 8}),
    "webp": ("WEBP", {"quality": 78, "method": 4}),
    "jpg": ("JPEG", {"quality": 82, "optimize": True, "progressive": True}),
}


def cover_height(width: int) -> int:
    return width * COVER_RATIO[1] // COVER_RATIO[0]


def variant_name(name: str, width: int, extension: str) -> str:
    """Where one size of a stored cover lives: beside it, e.g. covers/ab12-800.webp."""
    stem = name.rsplit(".", 1)[0]
    return f"{stem}-{width}.{extension}"


def variant_names(name: str) -> list[str]:
    return [variant_name(name, width, ext) for width in COVER_WIDTHS for ext in COVER_FORMATS]


def _available(extension: str) -> bool:
    from PIL import features

    return extension != "avif" or bool(features.check("avif"))


def render_cover_variants(data: bytes) -> dict[tuple[int, str], bytes]:
    """Every size and format of a cover from its cleaned JPEG: (width, extension) -> bytes.

    Made once when the cover is saved, never per request. A Pillow built without AVIF gives
    WebP and JPEG only; the page then offers what exists (``cover_formats``)."""
    with Image.open(io.BytesIO(data)) as original:
        original.load()
        picture = original.convert("RGB")
    out: dict[tuple[int, str], bytes] = {}
    for width in COVER_WIDTHS:
        sized = ImageOps.fit(picture, (width, cover_height(width)), Image.Resampling.LANCZOS)
        for extension in COVER_FORMATS:
            if not _available(extension):
                continue
            kind, options = _ENCODERS[extension]
            buffer = io.BytesIO()
            sized.save(buffer, format=kind, **options)
            out[(width, extension)] = buffer.getvalue()
    return out


def cover_formats() -> tuple[str, ...]:
    return tuple(ext for ext in COVER_FORMATS if _available(ext))


def store_cover_variants(storage, name: str, rendered: dict[tuple[int, str], bytes] | None = None) -> None:
    """Write the variants of the stored cover ``name`` beside it (replacing any older ones)."""
    if rendered is None:
        with storage.open(name, "rb") as original:
            rendered = render_cover_variants(original.read())
    for (width, extension), data in rendered.items():
        target = variant_name(name, width, extension)
        if storage.exists(target):
            storage.delete(target)
        storage.save(target, ContentFile(data))


def delete_cover(storage, name: str) -> None:
    """Delete a cover and every variant made from it: a replaced picture may be the one that
    identified someone, so no size of it may stay behind."""
    for target in [name, *variant_names(name)]:
        storage.delete(target)
