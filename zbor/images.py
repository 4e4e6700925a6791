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
