"""Share cards: a 1200×630 PNG per campaign and language — title, progress bar, amounts — used as
the page's og:image. Drawn with Pillow on request and cached under a key that includes the
totals, so a new donation gives a new picture."""

from __future__ import annotations

import hashlib
import io
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.cache import cache as django_cache
from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.utils import translation
from django.views.decorators.http import require_safe
from PIL import Image, ImageDraw, ImageFont, ImageOps

from zbor.images import COVER_WIDTHS, variant_name

from .embed import _card
from .fastpath import freshness

WIDTH, HEIGHT = 1200, 630
FONT_DIRS = ["/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF"]


@cache
def _font_path(bold: bool) -> str | None:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in FONT_DIRS:
        if (Path(folder) / name).exists():
            return str(Path(folder) / name)
    return None


def _font(size: int, bold: bool = False):
    path = _font_path(bold)
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size=size)


def _wrap(text: str, font, width: int, *, lines: int) -> list[str]:
    """Greedy word wrap by measured width; the last line ends with … when text is cut."""
    rows: list[str] = []
    for word in text.split():
        if rows and font.getlength(f"{rows[-1]} {word}") <= width:
            rows[-1] = f"{rows[-1]} {word}"
        else:
            rows.append(word)
    if len(rows) > lines:
        rows = rows[:lines]
        while rows[-1] and font.getlength(rows[-1] + " …") > width:
            rows[-1] = rows[-1].rsplit(" ", 1)[0] if " " in rows[-1] else rows[-1][:-1]
        rows[-1] += " …"
    return rows


def _cover_background(cover: bytes) -> Image.Image:
    """The cover cropped to the card's 1200×630 around its centre."""
    with Image.open(io.BytesIO(cover)) as picture:
        picture.load()
        return ImageOps.fit(picture.convert("RGB"), (WIDTH, HEIGHT), Image.Resampling.LANCZOS)


def draw_card(
    *, title: str, collected: str, goal: str, percent: int, foundation: str, line: str, cover: bytes | None = None
) -> bytes:
    """Without a cover: the text on the site's background. With one: the cover fills the card
    and the same text sits on a light panel across its lower part, so it reads on any picture."""
    if cover is None:
        image = Image.new("RGB", (WIDTH, HEIGHT), "#f4f5f2")
        top, title_size, title_lines, line_size = 60, 54, 4, 40
    else:
        image = _cover_background(cover)
        panel = Image.new("RGBA", (WIDTH, HEIGHT), (0, 0, 0, 0))
        ImageDraw.Draw(panel).rectangle([0, 300, WIDTH, HEIGHT], fill=(244, 245, 242, 238))
        image = Image.alpha_composite(image.convert("RGBA"), panel).convert("RGB")
        top, title_size, title_lines, line_size = 318, 44, 2, 34
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, WIDTH, 14], fill="#135e4b")
    draw.text((70, top), foundation, font=_font(30 if cover else 34, bold=True), fill="#135e4b")
    y = top + (50 if cover else 70)
    title_font = _font(title_size, bold=True)
    for row in _wrap(title, title_font, WIDTH - 140, lines=title_lines):
        draw.text((70, y), row, font=title_font, fill="#1d2327")
        y += title_size + 14
    draw.text((70, 490 if cover else 470), line, font=_font(line_size), fill="#1d2327")
    draw.rounded_rectangle([70, 540, WIDTH - 70, 572], radius=16, fill="#d5d9dd")
    filled = 70 + (WIDTH - 140) * max(0, min(percent, 100)) // 100
    if filled > 86:
        draw.rounded_rectangle([70, 540, filled, 572], radius=16, fill="#135e4b")
    out = io.BytesIO()
    if cover is None:
        image.save(out, format="PNG", optimize=True)
    else:
        # A picture compresses far better as JPEG; the URL stays card.png, the type says JPEG.
        image.save(out, format="JPEG", quality=85, optimize=True, progressive=True)
    return out.getvalue()


def _cover_bytes(name: str) -> bytes | None:
    """The widest variant made when the cover was saved, or None if it cannot be read."""
    try:
        with default_storage.open(variant_name(name, COVER_WIDTHS[-1], "jpg"), "rb") as stored:
            return stored.read()
    except OSError:
        return None


@require_safe
def share_card(request, slug: str):
    card, language = _card(slug, translation.get_language())
    progress = card.progress
    key = (
        "share-card:"
        + hashlib.sha256(
            f"{slug}|{language}|{card.title}|{card.cover_name}|{progress.collected.amount}|{progress.goal.amount}|{progress.this_year}".encode()
        ).hexdigest()
    )
    png = django_cache.get(key)
    if png is None:
        cover = _cover_bytes(card.cover_name) if card.cover_name else None
        with translation.override(language):
            line = progress.line()
        png = draw_card(
            title=card.title,
            collected=progress.collected_text,
            goal=progress.goal_text,
            percent=progress.percent,
            foundation=settings.ZBOR_FOUNDATION_NAME,
            line=line,
            cover=cover,
        )
        django_cache.set(key, png, 24 * 60 * 60)
    response = HttpResponse(png, content_type="image/jpeg" if png[:2] == b"\xff\xd8" else "image/png")
    # No longer than a page: after an emergency unpublish no outside cache keeps the card.
    response["Cache-Control"] = freshness()
    return response
