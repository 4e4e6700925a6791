"""Small helpers every test may use, in tests/ or in zbor/<app>/tests/ (`from tests.helpers import …`)."""

import re

#: The slug of the demo's reference campaign (`zbor load_demo`; the `demo` fixture returns it).
DEMO = "from-prison-to-family"


def text_of(html: str) -> str:
    """The words of an HTML page as a reader sees them: tags out, runs of white space made one."""
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&nbsp;", "\u00a0")


#: The slug of the campaign the `campaign` fixture builds (tests/factories.py), for tests whose
#: subject is not the demo.
CAMPAIGN = "a-campaign"
