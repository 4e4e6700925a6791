"""CPU per request, in process: the donate page and a bank pledge against the one-query view.

What `run.py` measures over HTTP with wrk, without the server, the network and the other
threads: each request goes through Django's WSGI handler (and Zbor's public page cache) in
this process, on a scratch SQLite database with the demo loaded, and the CPU time of a batch
is read with ``time.process_time``. The three are measured in turn, ten batches each, and
each one's best batch kept. With ``--profile``, cProfile's top functions of the pledge follow.

    .venv/bin/python bench/cpu.py [--requests 2000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEMO = "from-prison-to-family"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests of each kind")
    parser.add_argument("--profile", action="store_true", help="then profile the pledge")
    args = parser.parse_args()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench.settings_embedded",
        ZBOR_DATA_DIR=tempfile.mkdtemp(prefix="zbor-cpu-"),
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1",
        ZBOR_CARD_STARTS_PER_CLIENT_HOUR="0",
        ZBOR_PLEDGES_PER_CLIENT_HOUR="0",
        ZBOR_DONATIONS_PER_CAMPAIGN_HOUR="0",
    )
    import django

    django.setup()
    from django.core.management import call_command

    with open(os.devnull, "w") as quiet:
        call_command("migrate", verbosity=0, stdout=quiet)
        call_command("load_demo", stdout=quiet)
    from bench.harness import wsgi_call
    from config.wsgi import application

    def call(method: str, path: str, body: bytes = b"", cookie: str = "") -> tuple[str, list, bytes]:
        return wsgi_call(application, method, path, body, cookie)

    donate = f"/en/campaigns/{DEMO}/donate/"
    _status, headers, page = call("GET", donate)
    cookie = next(v for k, v in headers if k.lower() == "set-cookie" and "csrftoken=" in v).split(";")[0].strip()
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()  # type: ignore[union-attr]

    def one_query():
        call("GET", "/bench/one-query/")

    def donate_page():
        call("GET", donate)  # a first visit: no cookie, so a new CSRF secret too

    def pledge():
        body = f"csrfmiddlewaretoken={token}&amount=20&method=bank&idempotency_key={uuid.uuid4().hex}".encode()
        status, _headers, content = call("POST", donate, body, cookie)
        assert status.startswith("302"), content[:2000]

    kinds = {"one-query view": one_query, "donate page": donate_page, "bank pledge": pledge}
    best: dict[str, float] = {}
    batch = max(1, args.requests // 10)
    for kind in kinds.values():
        kind()  # warm up
    for _round in range(10):
        for name, kind in kinds.items():
            started = time.process_time()
            for _ in range(batch):
                kind()
            best[name] = min(best.get(name, float("inf")), (time.process_time() - started) / batch)
    base = best["one-query view"]
    for name, seconds in best.items():
        print(f"{name:15} {seconds * 1000:6.3f} ms of CPU a request   {base / seconds:.2f}× the one-query view's rate")
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(batch):
            pledge()
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
