"""Draw the demo campaigns' cover pictures: calm scenes made of simple shapes, no person's face.

The Zbor project's own work, under the repository's licence (docs/demo-covers.md). Run
`.venv/bin/python zbor/site/demo_covers/draw.py` to make the JPEGs beside this file again; the
output is the same every time (fixed random seed), so the committed files can be checked.
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

#: Drawn at twice the size and scaled down: smooth edges without an anti-aliasing library.
W, H = 1600, 900
S = 2
HERE = Path(__file__).resolve().parent


def _sky(top: str, bottom: str) -> Image.Image:
    """A vertical gradient from ``top`` to ``bottom``."""
    gradient = Image.linear_gradient("L").resize((W * S, H * S))
    return Image.composite(Image.new("RGB", gradient.size, bottom), Image.new("RGB", gradient.size, top), gradient)


def _xy(*points: float) -> list[float]:
    return [p * S for p in points]


def station() -> Image.Image:
    """Tracks to the horizon at dawn, a platform roof and a lamp: a journey home."""
    image = _sky("#f6d9b8", "#fbeee0")
    draw = ImageDraw.Draw(image)
    draw.ellipse(_xy(1030, 330, 1250, 550), fill="#f3b27a")
    draw.rectangle(_xy(0, 520, W, H), fill="#7c8a84")
    draw.polygon(_xy(0, 470, 300, 430, 650, 455, 1000, 420, 1350, 450, W, 430, W, 540, 0, 540), fill="#a7b3a9")
    for offset in (-110, 110):  # rails converge at the vanishing point
        draw.line(_xy(800, 520, 800 + offset * 6, H), fill="#3d4744", width=10 * S)
    for i in range(1, 14):
        t = (i / 14) ** 2
        y = 520 + t * 380
        half = 40 + t * 700
        draw.line(_xy(800 - half, y, 800 + half, y), fill="#56504a", width=int(4 + 14 * t) * S)
    draw.rectangle(_xy(0, 600, 330, H), fill="#5b6560")
    draw.rectangle(_xy(0, 300, 420, 330), fill="#2f3b38")
    for x in (60, 300):
        draw.rectangle(_xy(x, 330, x + 16, 600), fill="#2f3b38")
    draw.rectangle(_xy(360, 380, 370, 600), fill="#2f3b38")
    draw.ellipse(_xy(345, 360, 385, 400), fill="#ffe7a8")
    return image


def winter_house() -> Image.Image:
    """A small house in the snow at dusk, one warm window, three scarves drying on a line."""
    image = _sky("#44557a", "#c9cfe0")
    draw = ImageDraw.Draw(image)
    rng = random.Random(3)
    draw.polygon(_xy(0, 640, 400, 560, 900, 620, 1300, 540, W, 600, W, H, 0, H), fill="#eef1f6")
    draw.rectangle(_xy(560, 420, 960, 660), fill="#8a5a44")
    draw.polygon(_xy(530, 430, 760, 280, 990, 430), fill="#f4f6fa")
    draw.rectangle(_xy(640, 480, 740, 570), fill="#ffd98a")
    draw.line(_xy(690, 480, 690, 570), fill="#8a5a44", width=6 * S)
    draw.line(_xy(640, 525, 740, 525), fill="#8a5a44", width=6 * S)
    draw.rectangle(_xy(820, 520, 890, 660), fill="#5e3b2c")
    draw.line(_xy(1040, 470, 1480, 450), fill="#3b3f4a", width=3 * S)
    for i, colour in enumerate(("#d2553f", "#e9b949", "#4f8a78")):
        x = 1100 + i * 130
        draw.rectangle(_xy(x, 462 - i * 6, x + 60, 600 - i * 6), fill=colour)
        for k in range(5):
            draw.line(_xy(x + 6 + k * 12, 600 - i * 6, x + 6 + k * 12, 625 - i * 6), fill=colour, width=4 * S)
    for x in (1040, 1480):
        draw.line(_xy(x, 440, x, 680), fill="#3b3f4a", width=8 * S)
    for _ in range(260):
        fx, fy, r = rng.uniform(0, W), rng.uniform(0, H), rng.uniform(2, 6)
        draw.ellipse(_xy(fx - r, fy - r, fx + r, fy + r), fill="#ffffff")
    return image


def scales() -> Image.Image:
    """A desk under a lamp: papers, a pen and a pair of scales."""
    image = _sky("#2e3a46", "#4b5968")
    draw = ImageDraw.Draw(image)
    glow = Image.new("L", image.size, 0)
    ImageDraw.Draw(glow).ellipse(_xy(300, 150, 1300, 1000), fill=150)
    glow = glow.filter(ImageFilter.GaussianBlur(120 * S))
    image = Image.composite(Image.new("RGB", image.size, "#f1d9a6"), image, glow)
    draw = ImageDraw.Draw(image)
    draw.rectangle(_xy(0, 640, W, H), fill="#6b4b36")
    draw.polygon(_xy(330, 700, 760, 670, 800, 840, 360, 870), fill="#f7f4ec")
    draw.polygon(_xy(380, 690, 800, 650, 830, 810, 410, 850), fill="#ffffff")
    for k in range(6):
        draw.line(_xy(430, 700 + k * 22, 760, 670 + k * 22), fill="#b9bcc2", width=3 * S)
    draw.line(_xy(600, 880, 860, 760), fill="#222a33", width=9 * S)
    cx = 1100
    draw.rectangle(_xy(cx - 70, 615, cx + 70, 645), fill="#b08a3e")
    draw.rectangle(_xy(cx - 9, 300, cx + 9, 620), fill="#c89d45")
    draw.line(_xy(cx - 230, 330, cx + 230, 330), fill="#c89d45", width=12 * S)
    draw.ellipse(_xy(cx - 22, 280, cx + 22, 324), fill="#d8b25a")
    for side in (-1, 1):
        x = cx + side * 220
        draw.line(_xy(x, 330, x - 80, 500), fill="#8c7440", width=3 * S)
        draw.line(_xy(x, 330, x + 80, 500), fill="#8c7440", width=3 * S)
        draw.chord(_xy(x - 100, 440, x + 100, 560), 0, 180, fill="#c89d45")
    return image


def window() -> Image.Image:
    """Morning light through a window onto a sill with a plant and a glass of water."""
    image = _sky("#e9efe9", "#d7dfd8")
    draw = ImageDraw.Draw(image)
    draw.rectangle(_xy(380, 90, 1220, 700), fill="#f2efe6")
    draw.rectangle(_xy(420, 130, 1180, 660), fill="#bfe0f0")
    draw.ellipse(_xy(860, 180, 1080, 400), fill="#fff4c9")
    draw.polygon(_xy(420, 520, 700, 430, 950, 500, 1180, 420, 1180, 660, 420, 660), fill="#9cc7a4")
    draw.line(_xy(800, 130, 800, 660), fill="#f2efe6", width=22 * S)
    draw.line(_xy(420, 395, 1180, 395), fill="#f2efe6", width=22 * S)
    draw.polygon(_xy(420, 700, 1180, 700, 1500, H, 100, H), fill="#f6e7c4")
    draw.rectangle(_xy(330, 690, 1270, 730), fill="#e8e2d2")
    draw.polygon(_xy(520, 600, 640, 600, 620, 700, 540, 700), fill="#c7694a")
    for angle, (dx, dy) in enumerate(((-90, -120), (-20, -170), (60, -130), (100, -60), (-120, -40))):
        draw.ellipse(_xy(580 + dx - 30 - angle, 600 + dy - 18, 580 + dx + 30, 600 + dy + 18), fill="#4f8a5b")
        draw.line(_xy(580, 600, 580 + dx, 600 + dy), fill="#3f6f49", width=5 * S)
    draw.rectangle(_xy(940, 610, 1010, 700), fill="#dcecf2", outline="#9fb7c2", width=3 * S)
    draw.rectangle(_xy(944, 640, 1006, 696), fill="#b8d8e6")
    return image


def parcels() -> Image.Image:
    """A parcel tied with string and a stack of letters on a table."""
    image = _sky("#e8e0d2", "#d9cdb8")
    draw = ImageDraw.Draw(image)
    draw.rectangle(_xy(0, 620, W, H), fill="#a97c55")
    draw.polygon(_xy(420, 330, 900, 330, 1000, 270, 520, 270), fill="#d8ad74")
    draw.rectangle(_xy(420, 330, 900, 690), fill="#c89660")
    draw.polygon(_xy(900, 330, 1000, 270, 1000, 630, 900, 690), fill="#b08050")
    draw.line(_xy(660, 330, 660, 690), fill="#f3ead8", width=8 * S)
    draw.line(_xy(420, 510, 900, 510), fill="#f3ead8", width=8 * S)
    draw.line(_xy(660, 330, 760, 270), fill="#f3ead8", width=8 * S)
    draw.line(_xy(900, 510, 1000, 450), fill="#f3ead8", width=8 * S)
    draw.ellipse(_xy(620, 300, 700, 350), outline="#f3ead8", width=7 * S)
    for k, colour in enumerate(("#fbf8f1", "#eef3f7", "#fdf3e3")):
        x, y = 1060 + k * 18, 700 - k * 26
        draw.rectangle(_xy(x, y, x + 360, y + 200), fill=colour, outline="#c9bfae", width=3 * S)
        draw.line(_xy(x, y, x + 180, y + 110), fill="#c9bfae", width=3 * S)
        draw.line(_xy(x + 360, y, x + 180, y + 110), fill="#c9bfae", width=3 * S)
    draw.rectangle(_xy(1350, 660, 1400, 720), fill="#c5524a")
    return image


def cup() -> Image.Image:
    """Two hands in knitted sleeves around a warm cup: settling in somewhere new."""
    image = _sky("#f3e6d8", "#e7d2bd")
    draw = ImageDraw.Draw(image)
    draw.rectangle(_xy(0, 640, W, H), fill="#cfae8c")
    draw.ellipse(_xy(560, 220, 1040, 330), fill="#f0ebe4")
    for k in range(3):  # steam
        x = 700 + k * 80
        draw.arc(_xy(x - 40, 80, x + 40, 160), 90, 270, fill="#ffffff", width=8 * S)
        draw.arc(_xy(x - 40, 150, x + 40, 230), 270, 90, fill="#ffffff", width=8 * S)
    draw.rounded_rectangle(_xy(580, 270, 1020, 700), radius=60 * S, fill="#3f6e8c")
    draw.ellipse(_xy(580, 230, 1020, 320), fill="#3f6e8c")
    draw.ellipse(_xy(600, 245, 1000, 305), fill="#6b4a36")
    draw.arc(_xy(990, 380, 1150, 580), 270, 90, fill="#3f6e8c", width=30 * S)
    for side in (-1, 1):
        cx = 800 + side * 250
        draw.rounded_rectangle(_xy(cx - 120, 420, cx + 120, 640), radius=90 * S, fill="#e9b99a")
        for k in range(4):
            y = 440 + k * 48
            draw.rounded_rectangle(
                _xy(cx - 40 - side * 60, y, cx + 40 - side * 60, y + 42), radius=20 * S, fill="#e2ab89"
            )
        sleeve = (cx - 190, 560, cx + 190, H) if side < 0 else (cx - 190, 560, cx + 190, H)
        draw.rounded_rectangle(_xy(*sleeve), radius=70 * S, fill="#b5463e")
        for k in range(6):
            x = sleeve[0] + 30 + k * 56
            draw.line(_xy(x, 600, x, H), fill="#9d3a33", width=6 * S)
    return image


#: Demo campaign slug -> (drawing, file name).
COVERS = {
    "from-prison-to-family": (station, "station.jpg"),
    "winter-for-three-children": (winter_house, "winter-house.jpg"),
    "lawyer-for-an-appeal": (scales, "scales.jpg"),
    "dental-care-after-release": (window, "window.jpg"),
    "parcels-to-a-penal-colony": (parcels, "parcels.jpg"),
    "first-months-in-lithuania": (cup, "cup.jpg"),
}


def main() -> None:
    for drawing, name in COVERS.values():
        picture = drawing().resize((W, H), Image.Resampling.LANCZOS)
        picture.save(HERE / name, format="JPEG", quality=80, optimize=True, progressive=True)


if __name__ == "__main__":
    main()
