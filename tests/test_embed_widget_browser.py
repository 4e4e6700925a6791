"""The widget newspapers embed, in a real browser at the size the campaign page advertises: in
every language, for every demo campaign, the whole Donate button is visible and nothing spills."""

import re

from django.conf import settings

from tests.browser import needs_chromium
from zbor.site import demo

pytestmark = needs_chromium


def _advertised_size(page, url: str) -> tuple[int, int]:
    """Width and height from the iframe code a newspaper copies off the campaign page."""
    page.goto(url)
    code = page.locator("details.embed textarea").first.input_value()
    width, height = re.search(r'width="(\d+)" height="(\d+)"', code).groups()
    return int(width), int(height)


def test_the_widget_fits_its_advertised_size_in_every_language(browser, demo_server):
    page = browser.new_page()
    width, height = _advertised_size(page, f"{demo_server.url}/en/campaigns/from-prison-to-family/")
    frame = browser.new_page(viewport={"width": width, "height": height})
    checked, buttons = 0, 0
    for spec in demo.CAMPAIGNS:
        for language, _name in settings.LANGUAGES:
            response = frame.goto(f"{demo_server.url}/embed/campaigns/{spec['slug']}/?lang={language}")
            if response.status == 404:  # not public (a draft, under review, or unlisted)
                continue
            where = f"{spec['slug']} in {language}"
            checked += 1
            size = frame.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
            assert size[0] <= width and size[1] <= height, f"{where}: the content is {size[0]}×{size[1]}"
            button = frame.locator("a.d")
            if spec["status"] in {"published", "funded"}:
                box = button.bounding_box()
                assert box is not None, where
                buttons += 1
                assert box["x"] >= 0 and box["y"] >= 0, where
                assert box["x"] + box["width"] <= width and box["y"] + box["height"] <= height, (
                    f"{where}: the Donate button ends at {box['y'] + box['height']:.0f} px of {height}"
                )
            # The title may be cut with an ellipsis but must not push anything out.
            title = frame.locator(".t a")
            assert title.evaluate("a => a.getBoundingClientRect().bottom") <= height, where
    assert checked >= 4 * len(settings.LANGUAGES) and buttons >= 3 * len(settings.LANGUAGES)
