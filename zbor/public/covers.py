"""A campaign cover as pages show it: the sizes and formats made when it was saved (zbor.images)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.core.files.storage import default_storage
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

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


#: How wide a cover is shown, by breakpoint (zbor/site/static/zbor/site.css): a card is a third,
#: a half or the whole of the 68rem column less its padding; the campaign page's is the text width.
CARD_SIZES = (
    "(min-width: 68rem) 19rem, (min-width: 55.5rem) calc(33vw - 3.7rem), "
    "(min-width: 37.25rem) calc(50vw - 3.8rem), calc(100vw - 4.4rem)"
)
PAGE_SIZES = "(min-width: 44rem) 42rem, calc(100vw - 2rem)"


@lru_cache(maxsize=2048)
def picture_html(name: str, alt: str, css_class: str, sizes: str, lazy: bool, first: bool = False) -> SafeString:
    """The <picture> element, written here: a template include per card costs more than the card.
    The browser takes the first <source> type it can show; width and height reserve the box.
    ``first``: the largest thing on the screen when the page opens (the campaign page's cover on
    a phone), fetched before other pictures (Lighthouse's LCP request discovery)."""
    cover = cover_picture(name)
    sources = format_html_join(
        "", '<source type="{}" srcset="{}" sizes="{}">', ((kind, srcset, sizes) for kind, srcset in cover.sources)
    )
    return format_html(
        '<picture>{}<img class="{}" src="{}" srcset="{}" sizes="{}" alt="{}" width="{}" height="{}"{}{} decoding="async"></picture>',
        sources,
        css_class,
        cover.src,
        cover.jpeg_srcset,
        sizes,
        alt,
        cover.width,
        cover.height,
        mark_safe(' loading="lazy"') if lazy else "",  # noqa: S308 (a constant)
        mark_safe(' fetchpriority="high"') if first else "",  # noqa: S308 (a constant)
    )
