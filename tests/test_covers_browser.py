"""Covers in a real browser: the modern format at a width that fits the screen, allowed by the
page's CSP, and no layout shift while they arrive."""

from PIL import features

from tests.browser import needs_chromium

pytestmark = needs_chromium

LAYOUT_SHIFT = """() => new Promise(done => {
  let total = 0;
  new PerformanceObserver(list => { for (const entry of list.getEntries()) total += entry.value; })
    .observe({type: "layout-shift", buffered: true});
  setTimeout(() => done(total), 300);
})"""


def test_the_cover_comes_in_the_best_format_at_a_fitting_width_without_moving_the_page(browser, demo_server):
    expected = "avif" if features.check("avif") else "webp"
    blocked: list[str] = []
    for width, chosen in ((360, 480), (1280, 800)):
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(f"{demo_server.url}/en/campaigns/from-prison-to-family/")
        page.wait_for_load_state("networkidle")
        cover = page.locator("img.cover")
        source = cover.evaluate("img => img.currentSrc")
        assert source.startswith(f"{demo_server.url}/media/covers/") and source.endswith(f"-{chosen}.{expected}")
        # Loaded and decoded (naturalWidth is the density-corrected width, the box's).
        assert cover.evaluate("img => img.complete && img.naturalWidth > 0")
        box = cover.bounding_box()
        assert abs(box["width"] / box["height"] - 16 / 9) < 0.02
        assert page.evaluate(LAYOUT_SHIFT) == 0
        assert blocked == []
        page.close()
