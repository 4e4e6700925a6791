"""Cover images lose every piece of metadata on upload."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from zbor.images import clean_image


def _jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0131] = "Anna Kowalska laptop"  # Software
    exif[0x8825] = {1: "N", 2: (53.0, 54.0, 0.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes(), comment=b"taken at Home Street 5")
    return out.getvalue()


def test_exif_gps_and_comments_are_removed():
    raw = _jpeg_with_exif()
    assert b"SecretCam" in raw and b"Home Street" in raw
    cleaned = clean_image(SimpleUploadedFile("anna-at-home.jpg", raw, content_type="image/jpeg")).read()
    assert b"SecretCam" not in cleaned and b"Anna Kowalska" not in cleaned and b"Home Street" not in cleaned
    with Image.open(io.BytesIO(cleaned)) as result:
        assert result.format == "JPEG"
        assert not result.getexif()
        assert "comment" not in result.info and "exif" not in result.info
        assert result.size == (64, 48)


def test_a_file_that_is_not_a_picture_is_refused_with_a_message():
    with pytest.raises(ValidationError, match="not a picture"):
        clean_image(SimpleUploadedFile("x.jpg", b"%PDF-1.4 not an image", content_type="image/jpeg"))


def test_a_too_large_file_is_refused(settings):
    settings.ZBOR_MAX_IMAGE_BYTES = 100
    with pytest.raises(ValidationError, match="too large"):
        clean_image(SimpleUploadedFile("x.jpg", _jpeg_with_exif(), content_type="image/jpeg"))
