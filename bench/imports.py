"""Part 3 of `make bench`: a large bank statement imported while donors pledge (issue 16).

``measure`` (called by bench/run.py) sets up the embedded site (SQLite, one granian process)
and a PostgreSQL database, each migrated with the demo loaded, and reports two figures:

- the p99 (and the slowest) of bank pledges posted by 4 clients to the donate form while
  another process imports a 20,000-line statement into the same SQLite database (≤ 1 s);
- the time of a 10,000-line import on PostgreSQL (< 10 s).

Run as a script, this module is that other process: it creates ``--matching`` pending bank
pledges on the demo campaign, builds a synthetic CSV statement of ``--lines`` lines (one line
paying each pledge, spread through the file; the rest name no pledge and go to the unmatched
queue), prints ``importing`` as it starts the import, and prints JSON: the import's seconds,
what it matched, and whether the ledger reconciles.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402
from bench.harness import BIN, ROOT  # noqa: E402


def statement(references: list[str], lines: int, run: str) -> bytes:
    """CSV lines, ``references`` paid 20.00 each at even intervals, the others unmatched."""
    every = max(lines // max(len(references), 1), 1)
    day = date.today().isoformat()  # noqa: DTZ011 - a bank's booking day
    rows = ["date,amount,currency,reference,transaction_id"]
    paying = iter(references)
    for n in range(lines):
        reference = next(paying, None) if n % every == 0 else None
        if reference:
            rows.append(f"{day},20.00,EUR,{reference},{run}-{n}")
        else:
            rows.append(f"{day},{5 + n % 50}.00,EUR,for the lawyers of the family,{run}-{n}")
    return ("\n".join(rows) + "\n").encode()


IMPORT_P99_MS, IMPORT_PG_SECONDS = 1000, 10


def run_import(env: dict[str, str], lines: int) -> subprocess.Popen:
    """bench/imports.py started, once it has made its pledges and begins the import."""
    process = subprocess.Popen(
        [str(BIN / "python"), "bench/imports.py", "--lines", str(lines)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    while (line := process.stdout.readline()) and line.strip() != "importing":  # type: ignore[union-attr]
        pass
    return process


def import_figures(process: subprocess.Popen) -> dict:
    out = process.communicate()[0].strip().splitlines()
    if process.returncode != 0 or not out or not out[-1].startswith("{"):
        sys.exit(f"bench/imports.py failed: {out[-5:]}")
    return json.loads(out[-1])


def pledge_form(donate_url: str) -> tuple[str, str]:
    """The donate form's session cookie and CSRF token."""
    with urllib.request.urlopen(donate_url, timeout=30) as response:  # noqa: S310 - a local URL
        cookie = response.headers["Set-Cookie"].split(";")[0]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.read().decode()).group(1)  # type: ignore[union-attr]
    return cookie, token


def pledge_latencies(donate_url: str, until, clients: int = 4) -> tuple[list[float], int]:
    """Bank pledges posted by ``clients`` clients, one after another each, until ``until()``:
    every pledge's seconds from sending to its answer (none cut off at the end), and how many
    failed."""
    url = urllib.parse.urlsplit(donate_url)
    cookie, token = pledge_form(donate_url)
    latencies: list[float] = []
    failed = [0]

    def client(number: int) -> None:
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        sent = 0
        while not until():
            sent += 1
            body = f"csrfmiddlewaretoken={token}&amount=20&method=bank&idempotency_key=import{number}x{sent}x{uuid.uuid4().hex[:8]}"
            started = time.perf_counter()
            connection.request(
                "POST",
                url.path,
                body,
                {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie, "Referer": donate_url},
            )
            response = connection.getresponse()
            response.read()
            latencies.append(time.perf_counter() - started)
            failed[0] += response.status >= 400

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, failed[0]


def pledges_while_importing(results, env: dict[str, str], donate_url: str) -> None:
    """Bank pledges posted by 4 clients for as long as another process imports a 20,000-line
    statement into the same SQLite database: the p99 and the slowest of their answers."""
    warmed = time.monotonic() + 1
    pledge_latencies(donate_url, until=lambda: time.monotonic() > warmed)  # warm up
    process = run_import(env, 20_000)
    latencies, failed = pledge_latencies(donate_url, until=lambda: process.poll() is not None)
    figures = import_figures(process)
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99)] * 1000 if latencies else float("inf")
    results.check(
        "embedded bank pledges while a 20,000-line statement imports",
        f"p99 {p99:.0f} ms, slowest {latencies[-1] * 1000:.0f} ms, over {len(latencies)} pledges (import "
        f"{figures['seconds']:.1f} s, {figures['matched']} of {figures['pledges']} pledges matched), "
        f"target p99 ≤ {IMPORT_P99_MS} ms",
        p99 <= IMPORT_P99_MS and not failed and figures["matched"] == figures["pledges"],
    )


def import_on_postgres(results, env: dict[str, str]) -> None:
    """A 10,000-line statement imported into PostgreSQL, timed."""
    figures = import_figures(run_import(env, 10_000))
    results.check(
        "PostgreSQL import of a 10,000-line statement",
        f"{figures['seconds']:.1f} s ({figures['matched']} of {figures['pledges']} pledges matched, ledger "
        f"{'reconciled' if figures['reconciled'] else 'NOT reconciled'}), target < {IMPORT_PG_SECONDS} s",
        figures["seconds"] < IMPORT_PG_SECONDS and figures["matched"] == figures["pledges"] and figures["reconciled"],
    )


def measure(results, work: Path, database: str, *, env_for) -> None:
    """Both figures, on a fresh embedded set-up and the fresh PostgreSQL ``database``, with
    bench/run.py's environments (``env_for``)."""
    embedded_env = env_for(work / "imports", DJANGO_SETTINGS_MODULE="bench.settings_embedded")
    postgres_env = env_for(work / "imports-pg", DJANGO_SETTINGS_MODULE="config.settings.dev", DATABASE_URL=database)
    for env in (embedded_env, postgres_env):
        harness.zbor(["migrate", "--no-input"], env)
        harness.zbor(["load_demo"], env)
    procs = harness.Processes(work)
    try:
        port = harness.free_port()
        harness.granian(procs, "granian-imports", port, embedded_env)
        donate_url = f"http://127.0.0.1:{port}/en/campaigns/from-prison-to-family/donate/"
        harness.wait_for(donate_url)
        pledges_while_importing(results, embedded_env, donate_url)
    finally:
        procs.stop_all()
    import_on_postgres(results, postgres_env)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--matching", type=int, default=300)
    args = parser.parse_args()
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from zbor.campaigns.models import Campaign
    from zbor.donations.bank_import import import_statement
    from zbor.donations.reconcile import reconcile
    from zbor.donations.services import start_donation

    run = uuid.uuid4().hex[:8]
    campaign = Campaign.objects.get(slug="from-prison-to-family")
    pledges = [
        start_donation(campaign, amount=2000, need=None, provider="bank", idempotency_key=f"import-{run}-{n}")
        for n in range(args.matching)
    ]
    data = statement([p.checkout_reference for p in pledges], args.lines, run)
    finance, _ = get_user_model().objects.get_or_create(username=f"bench-finance-{run}", is_staff=True)
    print("importing", flush=True)
    started = time.perf_counter()
    report = import_statement(data, by=finance)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "lines": report.new,
                "matched": report.matched,
                "pledges": len(pledges),
                "seconds": seconds,
                "reconciled": reconcile().ok,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
