"""CPU per request, in process: a campaign page for everyone against the same page for a
replayed donor cookie (``zbor_donations``), as a ratio measured in one run.

A bank pledge yields a genuine, signed donor cookie; a botnet can replay it from many machines.
The public page cache (zbor/site/fastpath.py) renders pages for a donor cookie only
PERSONAL_RENDERS times a minute per cookie, then serves the shared page: so the replayed cookie
costs about what a cached page costs (a signature check more), not a render each time. The
figure printed is the ratio of CPU per request with the cookie to without it; a full render is
shown for scale (a forged cookie that always rendered would cost that).

Each request goes through config.wsgi.application (PublicPageCache in front of Django) on a
scratch SQLite database with the demo loaded; CPU time is read with ``time.process_time``,
ten batches of each kind in turn, each kind's best batch kept. Not part of the test run.

    .venv/bin/python bench/donor_cookie.py [--requests 5000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEMO = "from-prison-to-family"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5000, help="requests of each kind")
    args = parser.parse_args()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench.settings_embedded",
        ZBOR_DATA_DIR=tempfile.mkdtemp(prefix="zbor-donor-"),
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1",
        ZBOR_PLEDGES_PER_CLIENT_HOUR="0",
        ZBOR_DONATIONS_PER_CAMPAIGN_HOUR="0",
        ZBOR_PAGE_CACHE_SECONDS="1",
    )
    import django

    django.setup()
    from django.core.management import call_command

    with open(os.devnull, "w") as quiet:
        call_command("migrate", verbosity=0, stdout=quiet)
        call_command("load_demo", stdout=quiet)
    from bench.harness import wsgi_call
    from config.wsgi import application
    from zbor.site import fastpath

    def call(method: str, path: str, body: bytes = b"", cookie: str = "", app=application) -> tuple[str, list, bytes]:
        return wsgi_call(app, method, path, body, cookie)

    # A real pledge, through the form, gives the real cookie.
    import re

    donate = f"/en/campaigns/{DEMO}/donate/"
    _status, headers, page = call("GET", donate)
    csrf = next(v for k, v in headers if k.lower() == "set-cookie" and "csrftoken=" in v).split(";")[0].strip()
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()  # type: ignore[union-attr]
    body = f"csrfmiddlewaretoken={token}&amount=20&method=bank&idempotency_key={uuid.uuid4().hex}".encode()
    status, headers, _content = call("POST", donate, body, csrf)
    assert status.startswith("302"), status
    donor = (
        next(v for k, v in headers if k.lower() == "set-cookie" and fastpath.MINE_COOKIE in v).split(";")[0].strip()
    )

    campaign = f"/en/campaigns/{DEMO}/"
    django_app = application.app  # the Django handler behind the cache: a full render every time

    def cached():
        call("GET", campaign)

    def with_cookie():
        call("GET", campaign, cookie=f"{csrf}; {donor}")

    def full_render():
        call("GET", campaign, app=django_app)

    kinds = {"cached page": cached, "donor cookie": with_cookie, "full render": full_render}
    best: dict[str, float] = {}
    batch = max(1, args.requests // 10)
    for kind in kinds.values():
        kind()
    for _round in range(10):
        for name, kind in kinds.items():
            reps = batch if name != "full render" else max(1, batch // 20)
            started = time.process_time()
            for _ in range(reps):
                kind()
            best[name] = min(best.get(name, float("inf")), (time.process_time() - started) / reps)
    base = best["cached page"]
    for name, seconds in best.items():
        print(f"{name:13} {seconds * 1e6:9.1f} µs of CPU a request   {seconds / base:7.2f}× the cached page")
    print(f"ratio donor cookie / cached page: {best['donor cookie'] / base:.2f}")


if __name__ == "__main__":
    main()
