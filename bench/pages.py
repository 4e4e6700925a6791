"""Public page cost, in process: each page's requests per second as a ratio of a bare Django view.

Runs against a fresh SQLite database with the demo data in a temporary directory, through the
full middleware stack (Django's test client), one page after another in the same run, so the
ratios hold on a noisy machine even when the absolute numbers do not.

    make bench            # or: .venv/bin/python bench/pages.py --seconds 3
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per page")
    args = parser.parse_args()

    data = tempfile.mkdtemp(prefix="zbor-bench-")
    os.environ.update(
        {"DJANGO_SETTINGS_MODULE": "config.settings.dev", "ZBOR_DATA_DIR": data, "DEBUG": "false", "ALLOWED_HOSTS": "testserver"}
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.http import HttpResponse
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import path

    call_command("migrate", verbosity=0)
    call_command("load_demo", stdout=open(os.devnull, "w"))

    body = Client().get("/en/campaigns/from-prison-to-family/").content

    def bare(request):
        return HttpResponse(body)

    import config.urls

    urls = type("urls", (), {"urlpatterns": [path("bare/", bare), *config.urls.urlpatterns]})
    client = Client()
    pages = [
        ("bare Django view, same bytes", "/bare/"),
        ("campaign page (en)", "/en/campaigns/from-prison-to-family/"),
        ("campaign page (ru)", "/ru/campaigns/from-prison-to-family/"),
        ("campaign list", "/en/campaigns/"),
        ("home", "/en/"),
    ]
    results = []
    with override_settings(ROOT_URLCONF=urls):
        for name, url in pages:
            assert client.get(url).status_code == 200, url
            queries = []
            with connection.execute_wrapper(lambda execute, sql, *a, queries=queries: (queries.append(sql), execute(sql, *a))[1]):
                client.get(url)
            count, deadline = 0, time.perf_counter() + args.seconds
            while time.perf_counter() < deadline:
                client.get(url)
                count += 1
            results.append((name, count / args.seconds, len(queries)))
    baseline = results[0][1]
    print(f"{'page':34} {'req/s':>8} {'ratio':>7} {'queries':>8}")
    for name, rate, queries in results:
        print(f"{name:34} {rate:8.0f} {rate / baseline:7.2f} {queries:8d}")
    print(f"campaign page HTML: {len(body)} bytes")


if __name__ == "__main__":
    main()
