"""`make bench`: issue 7's targets, each measured as a ratio in one run, PASS or FAIL.

Everything is measured side by side on this machine (2 cores here), so the *ratios* hold even
when the absolute figures move with the machine's load:

0. Uncached render (bench/render.py): the campaign page, the list and the home page rendered
   in process by Django's test client, the cache cleared before each (≤ 5 ms of CPU each).
1. Embedded (`make run`'s set-up: SQLite, one granian process): each public page's requests
   per second against nginx serving the same bytes from a file (target ≥ 20%), the donate page
   and a bank pledge against a minimal Django view making one query (≥ 50% and ≥ 30%; the three
   measured in turn, three times, each one's best kept), page weight (< 50 KB).
2. Recommended production set-up (PostgreSQL, Redis, two granian workers behind nginx with a
   one-second cache, as deploy/nginx.conf): each public page against nginx serving the file
   (≥ 50%, p99 < 20 ms at 32 connections); a donation shows on every language's page and in
   the API within 2 s; donations confirmed 32 at a time on one campaign, from 8 processes as
   webhooks reach several app-server workers (≥ 300/s, exact totals, `zbor reconcile` clean).
3. Large statement imports (bench/imports.py): bank pledges on the embedded set-up answered
   with p99 ≤ 1 s while another process imports a 20,000-line statement; on PostgreSQL, a
   10,000-line statement imported in < 10 s.
4. Growth (unless --quick): 10,000 campaigns and 1,000,000 donations (bench/fixture.py); the
   campaign, list and donate pages rendered by Django (no cache) within 1.2× of their figures
   on the demo database (both servers up at once, measured in turn, twice, each one's best
   kept), and `zbor reconcile` through it all in under a minute.

    make bench                       # everything (the growth fixture takes a few minutes)
    .venv/bin/python bench/run.py --quick --seconds 3
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402
from bench import imports as bench_imports  # noqa: E402
from bench.harness import BIN, ROOT, Load, Processes  # noqa: E402
from bench.render import TARGET_MS as RENDER_TARGET_MS  # noqa: E402

DEMO = "from-prison-to-family"
PAGES = {
    "campaign page": f"/en/campaigns/{DEMO}/",
    "campaign list": "/en/campaigns/",
    "home": "/en/",
    "API campaign": f"/api/v1/campaigns/{DEMO}",
}
ENCRYPTION_KEY = "ZmFrZS1iZW5jaC1rZXktMDAwMDAwMDAwMDAwMDAwMDA="


class Results:
    def __init__(self):
        self.rows: list[tuple[str, str, bool]] = []

    def check(self, name: str, measured: str, ok: bool) -> None:
        self.rows.append((name, measured, ok))
        print(f"  {'PASS' if ok else 'FAIL'}  {name}: {measured}", flush=True)

    def ratio(self, name: str, load: Load, base: Load, target: float, p99_ms: float | None = None) -> None:
        ratio = load.rps / base.rps
        ok = ratio >= target and not load.errors and (p99_ms is None or load.p99_ms < p99_ms)
        detail = f"{ratio:.2f}× ({load} vs {base.rps:.0f} req/s), target ≥ {target:.2f}×"
        if p99_ms is not None:
            detail += f" and p99 < {p99_ms:.0f} ms"
        self.check(name, detail, ok)


def base_env(data: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "ZBOR_", "DJANGO_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        ZBOR_DATA_DIR=str(data),
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        # The bench is one client hammering the donate form: the abuse limits would stop it.
        ZBOR_CARD_STARTS_PER_CLIENT_HOUR="0",
        ZBOR_PLEDGES_PER_CLIENT_HOUR="0",
        ZBOR_DONATIONS_PER_CAMPAIGN_HOUR="0",
    )
    env.update(extra)
    return env


def pledge_script(workdir: Path, url: str) -> Path:
    """A wrk script posting bank pledges, each with its own idempotency key (in every run of
    wrk), past the CSRF check."""
    request = harness.urllib.request.Request(url)
    with harness.urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - a local URL
        cookie = response.headers["Set-Cookie"].split(";")[0]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.read().decode()).group(1)  # type: ignore[union-attr]
    script = workdir / "pledge.lua"
    script.write_text(f"""
local counter = 0
local threads = 0
-- Keys new in every run of wrk (the warm-up's are not sent again: a repeat is a resent form).
math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1000000))
local run = math.random(0, 2147483647)
function setup(thread) threads = threads + 1; thread:set("id", threads); thread:set("run", run) end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "{cookie}"
function request()
  counter = counter + 1
  local key = string.format("bench%02d%010d%010d%s", id, run, counter, "{secrets.token_hex(4)}")
  return wrk.format(nil, nil, nil, "csrfmiddlewaretoken={token}&amount=20&method=bank&idempotency_key=" .. key)
end
""")
    return script


def measure(url: str, seconds: float, script: Path | None = None) -> Load:
    harness.wrk(url, min(1.0, seconds), script=script)  # warm up: caches, connections, the JIT of nothing
    return harness.wrk(url, seconds, script=script)


def best_of(rounds: int, seconds: float, targets: dict[str, tuple[str, Path | None]]) -> dict[str, Load]:
    """Each target measured ``rounds`` times, in turn with the others, and its best run kept:
    what is compared then saw the same moments of a shared, noisy machine."""
    best: dict[str, Load] = {}
    for _round in range(rounds):
        for name, (url, script) in targets.items():
            load = measure(url, seconds, script)
            if name not in best or load.rps > best[name].rps:
                best[name] = load
    return best


def renders(results: Results) -> None:
    print("\n0. Uncached render in process (bench/render.py): SQLite, the demo, the cache cleared", flush=True)
    out = subprocess.run(
        [str(BIN / "python"), "bench/render.py", "--json"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    lines = out.stdout.strip().splitlines()
    if not lines or not lines[-1].startswith("{"):
        results.check("uncached render", (out.stderr or out.stdout)[-500:], False)
        return
    for name, figures in json.loads(lines[-1]).items():
        results.check(
            f"uncached render of the {name}",
            f"{figures['cpu_ms']:.2f} ms CPU ({figures['wall_ms']:.2f} ms wall), target ≤ {RENDER_TARGET_MS:g} ms",
            figures["cpu_ms"] <= RENDER_TARGET_MS,
        )


def embedded(results: Results, work: Path, seconds: float) -> dict[str, Load]:
    print("\n1. Embedded: SQLite, one granian process (make run)", flush=True)
    env = base_env(work / "embedded", DJANGO_SETTINGS_MODULE="bench.settings_embedded")
    harness.zbor(["migrate", "--no-input"], env)
    harness.zbor(["load_demo"], env)
    procs = Processes(work)
    try:
        app_port, front_port = harness.free_port(), harness.free_port()
        harness.granian(procs, "granian-embedded", app_port, env)
        harness.nginx(procs, work, front_port, [app_port])
        app, front = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{front_port}"
        harness.wait_for(app + "/en/")
        time.sleep(0.5)  # nginx
        figures = {}
        for name, path in PAGES.items():
            body = harness.fetch(app + path)
            static = harness.put_file(work, name.replace(" ", "-") + ".html", body)
            base = measure(front + static, seconds)
            load = measure(app + path, seconds)
            figures[name] = load
            results.ratio(f"embedded {name} vs nginx file ({len(body)} B)", load, base, 0.20)
        donate_url = app + f"/en/campaigns/{DEMO}/donate/"
        best = best_of(
            3,
            seconds,
            {
                "one query": (app + "/bench/one-query/", None),
                "donate page": (donate_url, None),
                "pledge": (donate_url, pledge_script(work, donate_url)),
            },
        )
        figures["donate page"] = best["donate page"]
        # Issue 15: the donate page is rendered for each visit (no cached HTML with a visitor's
        # secrets) and a pledge goes through Django's public APIs only; figures in ADR 0008.
        results.ratio("embedded donate page vs a one-query Django view", best["donate page"], best["one query"], 0.50)
        results.ratio(
            "embedded start of a payment (bank pledge POST) vs a one-query Django view",
            best["pledge"],
            best["one query"],
            0.30,
        )
        page = harness.fetch(app + PAGES["campaign page"])
        css = harness.fetch(app + re.search(rb'href="(/static/[^"]+\.css)"', page).group(1).decode())  # type: ignore[union-attr]
        weight = len(page) + len(css)
        results.check(
            "campaign page weight (HTML + CSS)", f"{weight / 1024:.1f} KB, target < 50 KB", weight < 50 * 1024
        )
        return figures
    finally:
        procs.stop_all()


def production(results: Results, work: Path, seconds: float) -> None:
    print("\n2. Recommended production set-up: PostgreSQL, Redis, nginx (1 s cache) → 2 granian workers", flush=True)
    database = harness.fresh_database("zbor_bench")
    common = dict(DATABASE_URL=database, REDIS_URL="redis://127.0.0.1:6379/13", ZBOR_STATIC_ROOT=str(work / "static"))
    setup_env = base_env(work / "production", DJANGO_SETTINGS_MODULE="config.settings.dev", **common)
    harness.zbor(["migrate", "--no-input"], setup_env)
    harness.zbor(["load_demo"], setup_env)
    subprocess.run(["redis-cli", "-n", "13", "flushdb"], check=False, capture_output=True)
    env = base_env(
        work / "production",
        DJANGO_SETTINGS_MODULE="bench.settings_production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ZBOR_ENCRYPTION_KEYS=ENCRYPTION_KEY,
        SECURE_SSL_REDIRECT="false",
        ZBOR_PAYMENT_PROVIDERS="bank",
        ZBOR_BANK_IBAN="PL61 1090 1014 0000 0712 1981 2874",
        **common,
    )
    harness.zbor(["collectstatic", "--no-input"], env)
    procs = Processes(work)
    try:
        app_port, front_port = harness.free_port(), harness.free_port()
        harness.granian(procs, "granian-production", app_port, env, workers=2)
        harness.nginx(procs, work, front_port, [app_port])
        front = f"http://127.0.0.1:{front_port}"
        harness.wait_for(f"http://127.0.0.1:{app_port}/en/")
        time.sleep(0.5)
        for name, path in PAGES.items():
            body = harness.fetch(front + path)
            static = harness.put_file(work, "prod-" + name.replace(" ", "-") + ".html", body)
            base = measure(front + static, seconds)
            load = measure(front + path, seconds)
            results.ratio(f"production {name} vs nginx file", load, base, 0.50, p99_ms=20)
        # Freshness: a donation recorded now, looked for on every language's page and in the API.
        collected_before = json.loads(harness.fetch(front + PAGES["API campaign"]))["collected"]["amount"]
        started = time.monotonic()
        subprocess.run(
            [
                str(BIN / "python"),
                "-c",
                (
                    "import django; django.setup(); from zbor.campaigns.models import Campaign; "
                    "from zbor.donations.services import record_demo_donation; "
                    f"record_demo_donation(Campaign.objects.get(slug='{DEMO}'), amount=1234)"
                ),
            ],
            env=setup_env,
            check=True,
            cwd=ROOT,
        )
        recorded = time.monotonic()
        wanted = collected_before + 1234

        def shown(lang: str) -> bool:
            collected = json.loads(harness.fetch(f"{front}{PAGES['API campaign']}?lang={lang}"))["collected"]
            page = harness.fetch(f"{front}/{lang}/campaigns/{DEMO}/").decode()
            return collected["amount"] == wanted and collected["formatted"] in page

        while not all(shown(lang) for lang in ("en", "ru", "be", "pl")) and time.monotonic() - recorded < 10:
            time.sleep(0.05)
        delay = time.monotonic() - recorded
        results.check(
            "a new donation on all four languages' pages and in the API",
            f"{delay:.2f} s after it was recorded (recording took {recorded - started:.2f} s), target ≤ 2 s",
            delay <= 2,
        )
    finally:
        procs.stop_all()
    print("   donations: 32 confirmations at a time on one campaign, from 8 processes …", flush=True)
    out = subprocess.run(
        [str(BIN / "python"), "bench/donations.py", "--donations", "3000", "--concurrent", "32", "--processes", "8"],
        env=setup_env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        results.check("donations recorded end to end", out.stderr[-500:], False)
        return
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    results.check(
        "donations recorded end to end on PostgreSQL (32 concurrent, one campaign)",
        f"{figures['per_second']:.0f}/s, exact totals: {figures['exact']}, reconcile clean: {figures['reconcile_clean']}, target ≥ 300/s",
        figures["per_second"] >= 300 and figures["exact"] and figures["reconcile_clean"],
    )


def growth(results: Results, work: Path, seconds: float, campaigns: int, donations: int) -> None:
    print(f"\n4. Growth: {campaigns:,} campaigns and {donations:,} donations on PostgreSQL", flush=True)
    urls = {
        "campaign page": f"/en/campaigns/{DEMO}/",
        "campaign list": "/en/campaigns/",
        "donate page": f"/en/campaigns/{DEMO}/donate/",
    }
    envs = {}
    for label, size in (("empty", 0), ("grown", donations)):
        database = harness.fresh_database(f"zbor_bench_{label}")
        # Django renders every request: the cost that could grow. Six campaigns a page, as many
        # as the demo has: both lists show the same full page, with 6 or 10,000 campaigns behind it.
        env = envs[label] = base_env(
            work / f"growth-{label}",
            DJANGO_SETTINGS_MODULE="config.settings.dev",
            DATABASE_URL=database,
            ZBOR_PAGE_CACHE_SECONDS="0",
            ZBOR_CAMPAIGNS_PER_PAGE="6",
        )
        harness.zbor(["migrate", "--no-input"], env)
        harness.zbor(["load_demo"], env)
        if size:
            started = time.monotonic()
            subprocess.run(
                [str(BIN / "python"), "bench/fixture.py", "--campaigns", str(campaigns), "--donations", str(size)],
                env=env,
                cwd=ROOT,
                check=True,
            )
            print(f"   fixture made in {time.monotonic() - started:.0f} s", flush=True)
            started = time.monotonic()
            rss = subprocess.run(
                ["/usr/bin/time", "-f", "%M", str(BIN / "zbor"), "reconcile"],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            took = time.monotonic() - started
            peak = int(rss.stderr.strip().splitlines()[-1]) / 1024
            clean = "clean: no differences" in rss.stdout
            results.check(
                "zbor reconcile through every transfer",
                f"{took:.1f} s, peak memory {peak:.0f} MB, clean: {clean}, target < 60 s",
                took < 60 and clean,
            )
    # The fixture's writes are flushed before anything is timed, and the two servers are
    # measured in turn, page by page, so both see the same moments of the machine.
    subprocess.run(["psql", harness.PG + "/postgres", "-qc", "CHECKPOINT"], check=True, capture_output=True)
    procs = Processes(work)
    try:
        apps = {}
        for label, env in envs.items():
            port = harness.free_port()
            harness.granian(procs, f"granian-{label}", port, env)
            apps[label] = f"http://127.0.0.1:{port}"
            harness.wait_for(apps[label] + "/en/")
        for name, path in urls.items():
            # Five rounds: an uncached render is ~12 ms of the GIL, and sixteen threads passing it
            # around every 5 ms make the same server's 3-second runs range from 40 to 80 req/s.
            best = best_of(5, seconds, {label: (app + path, None) for label, app in apps.items()})
            grown, empty = best["grown"], best["empty"]
            slower = empty.rps / grown.rps
            results.check(
                f"{name} rendered with {donations:,} donations vs the demo database",
                f"{slower:.2f}× slower ({grown.rps:.0f} vs {empty.rps:.0f} req/s), target ≤ 1.2×",
                slower <= 1.2,
            )
    finally:
        procs.stop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5, help="load time per measurement")
    parser.add_argument("--quick", action="store_true", help="skip the growth run (the million-donation fixture)")
    parser.add_argument("--campaigns", type=int, default=10_000)
    parser.add_argument("--donations", type=int, default=1_000_000)
    parser.add_argument("--import-database", default="zbor_bench_import", help="PostgreSQL database (recreated)")
    parser.add_argument(
        "--only", choices=["render", "embedded", "production", "imports", "growth"], help="run one part"
    )
    args = parser.parse_args()
    harness.need_tools()
    work = Path(tempfile.mkdtemp(prefix="zbor-bench-"))
    results = Results()
    print(f"Zbor bench, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores; logs in {work}")
    if args.only in (None, "render"):
        renders(results)
    if args.only in (None, "embedded"):
        embedded(results, work, args.seconds)
    if args.only in (None, "production"):
        production(results, work, args.seconds)
    if args.only in (None, "imports"):
        print("\n3. Large statement imports (bench/imports.py)", flush=True)
        database = harness.fresh_database(args.import_database)
        bench_imports.measure(results, work, database, env_for=base_env)
    if args.only == "growth" or (args.only is None and not args.quick):
        growth(results, work, args.seconds, args.campaigns, args.donations)
    failed = [name for name, _m, ok in results.rows if not ok]
    print(
        f"\n{len(results.rows) - len(failed)} of {len(results.rows)} targets met."
        + (f" FAILED: {', '.join(failed)}" if failed else "")
    )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
