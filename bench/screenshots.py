"""The README's and docs' pictures of the demo, taken again: `make screenshots`.

Loads the demo into a fresh SQLite database, serves it with granian as `make run` does, and
photographs the flagship campaign's page in each language on a phone (390 px) and a desktop
(1280 px) with Debian's Chromium through playwright. The pictures are written to docs/images/
as campaign-<language>-<phone|desktop>.png (the top of the page: what a reader sees first).

Not a test: pictures are for people to look at. Run it after changing how the page looks.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playwright.sync_api import sync_playwright  # noqa: E402

from bench import harness  # noqa: E402
from bench.run import base_env  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
OUT = harness.ROOT / "docs" / "images"
SLUG = "from-prison-to-family"
LANGUAGES = ("en", "ru", "be", "pl")
#: (name, viewport width, height, device scale): a common phone, a laptop.
DEVICES = (("phone", 390, 844, 2), ("desktop", 1280, 900, 1))


def shoot(base: str) -> list[Path]:
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for device, width, height, scale in DEVICES:
            context = browser.new_context(
                viewport={"width": width, "height": height}, device_scale_factor=scale, reduced_motion="reduce"
            )
            page = context.new_page()
            for language in LANGUAGES:
                response = page.goto(f"{base}/{language}/campaigns/{SLUG}/", wait_until="networkidle")
                if response is None or response.status != 200:
                    sys.exit(f"/{language}/campaigns/{SLUG}/ answered {response and response.status}")
                path = OUT / f"campaign-{language}-{device}.png"
                page.screenshot(path=str(path), full_page=False)
                written.append(path)
            context.close()
        browser.close()
    return written


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="zbor-shots-") as tmp:
        work = Path(tmp)
        # As `make run`: dev settings, DEBUG on (Zbor itself serves the uploaded covers then).
        env = base_env(work / "data", DJANGO_SETTINGS_MODULE="config.settings.dev", DEBUG="true")
        (work / "data").mkdir()
        harness.zbor(["migrate", "--no-input"], env)
        harness.zbor(["load_demo"], env)
        procs = harness.Processes(work)
        try:
            port = harness.free_port()
            harness.granian(procs, "granian", port, env)
            base = f"http://127.0.0.1:{port}"
            harness.wait_for(f"{base}/en/")
            for path in shoot(base):
                print(path.relative_to(harness.ROOT))
        finally:
            procs.stop_all()


if __name__ == "__main__":
    main()
