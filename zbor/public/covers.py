"""A campaign cover as pages show it: the sizes and formats made when it was saved (zbor.images)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.core.files.storage import default_storage

from zbor.images import COVER_WIDTHS, cover_formats, cover_height, variant_name

COVER_TYPES = {"avif": "image/avif", "webp": "image/webp", "jpg": "image/jpeg"}


@dataclass(frozen=True)
class CoverPicture:
    """A cover's sizes for <picture>: one width-described srcset per format, JPEG the fallback."""

    src: str
    #: (MIME type, srcset) for each modern format, best first.
    sources: tuple[tuple[str, str], ...]
    jpeg_srcset: str
    width: int
    height: int


@lru_cache(maxsize=512)
def cover_picture(name: str) -> CoverPicture:
    """The variants made when the cover was saved (zbor.images), addressed by name only: a
    page never touches the disk to show a picture."""

    def srcset(extension: str) -> str:
        return ", ".join(f"{default_storage.url(variant_name(name, w, extension))} {w}w" for w in COVER_WIDTHS)

    widest = COVER_WIDTHS[-1]
    return CoverPicture(
        src=default_storage.url(variant_name(name, 800, "jpg")),
        sources=tuple((COVER_TYPES[ext], srcset(ext)) for ext in cover_formats() if ext != "jpg"),
        jpeg_srcset=srcset("jpg"),
        width=widest,
        height=cover_height(widest),
    )
