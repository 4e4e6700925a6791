"""Uncached render cost, in process: the campaign page, the campaign list and the home page.

The caches hide a render from most visitors, but every cache miss, every staff preview and
every donor who just gave pays it. This measures what one costs on its own: a scratch SQLite
database is migrated and the demo loaded, every page is fetched once (imports, compiled
templates, the database's pages in memory), then each page is fetched ``--requests`` times with
Django's test client (the whole middleware stack, no server, no network, no PublicPageCache),
the shared cache cleared before each request (parler's translations and the listing's count
with it). The median of each page is kept and judged against the target (5 ms).

Both the wall time and the CPU time of the process are measured; the verdict reads the CPU
time, which the other processes of a shared machine do not inflate (a render waits for no I/O:
the SQLite file is in memory after the warm-up). On a busy shared machine both move with the
load: ``--calls`` adds the number of Python function calls a render makes (counted by cProfile),
which does not, to compare two versions of the code. ``--profile`` prints cProfile's top
functions of each page.

    .venv/bin/python bench/render.py [--requests 200] [--calls] [--profile] [--json]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEMO = "from-prison-to-family"
PAGES = {
    "campaign page": f"/en/campaigns/{DEMO}/",
    "campaign list": "/en/campaigns/",
    "home": "/en/",
}
TARGET_MS = 5.0


def setup() -> None:
    for name in ("DATABASE_URL", "REDIS_URL"):  # the embedded set-up: SQLite, the local-memory cache
        os.environ.pop(name, None)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="bench.settings_embedded",
        ZBOR_DATA_DIR=tempfile.mkdtemp(prefix="zbor-render-"),
        DEBUG="false",
        ALLOWED_HOSTS="testserver,127.0.0.1",
    )
    import django

    django.setup()
    from django.core.management import call_command

    with open(os.devnull, "w") as quiet:
        call_command("migrate", verbosity=0, stdout=quiet)
        call_command("load_demo", stdout=quiet)


def measure(requests: int) -> dict[str, tuple[float, float]]:
    """(median wall ms, median CPU ms) of an uncached render, per page."""
    from django.core.cache import cache
    from django.test import Client

    client = Client()
    for path in PAGES.values():  # warm up
        cache.clear()
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    walls: dict[str, list[float]] = {name: [] for name in PAGES}
    cpus: dict[str, list[float]] = {name: [] for name in PAGES}
    for _round in range(requests):
        for name, path in PAGES.items():  # in turn: every page sees the same moments of the machine
            cache.clear()
            wall, cpu = time.perf_counter(), time.process_time()
            client.get(path)
            cpus[name].append(time.process_time() - cpu)
            walls[name].append(time.perf_counter() - wall)
    return {name: (statistics.median(walls[name]) * 1000, statistics.median(cpus[name]) * 1000) for name in PAGES}


def calls() -> dict[str, float]:
    """Python function calls per uncached render, per page (the same on a busy or idle machine)."""
    from django.core.cache import cache
    from django.test import Client

    client, counted = Client(), {}
    for name, path in PAGES.items():
        profiler = cProfile.Profile()
        for _ in range(10):
            cache.clear()
            profiler.enable()
            client.get(path)
            profiler.disable()
        counted[name] = pstats.Stats(profiler).total_calls / 10  # type: ignore[attr-defined]
    return counted


def profile(requests: int) -> None:
    from django.core.cache import cache
    from django.test import Client

    client = Client()
    for name, path in PAGES.items():
        profiler = cProfile.Profile()
        for _ in range(requests):
            cache.clear()
            profiler.enable()
            client.get(path)
            profiler.disable()
        print(f"\n=== {name} ({path}), {requests} renders")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="renders of each page")
    parser.add_argument("--calls", action="store_true", help="then count the function calls of a render")
    parser.add_argument("--profile", action="store_true", help="then profile each page")
    parser.add_argument("--json", action="store_true", help="end with one JSON line (for bench/run.py)")
    args = parser.parse_args()
    setup()
    figures = measure(args.requests)
    for name, (wall, cpu) in figures.items():
        verdict = "PASS" if cpu <= TARGET_MS else "FAIL"
        print(
            f"  {verdict}  uncached render of the {name}: {cpu:.2f} ms CPU ({wall:.2f} ms wall), target ≤ {TARGET_MS:g} ms"
        )
    if args.calls:
        for name, count in calls().items():
            print(f"  {name}: {count:,.0f} Python function calls a render")
    if args.profile:
        profile(max(1, args.requests // 4))
    if args.json:
        print(json.dumps({name: {"wall_ms": wall, "cpu_ms": cpu} for name, (wall, cpu) in figures.items()}))
    sys.exit(0 if all(cpu <= TARGET_MS for _wall, cpu in figures.values()) else 1)


if __name__ == "__main__":
    main()
