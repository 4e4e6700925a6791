"""`make bench-cluster`: the recommended production shape on one machine, checked end to end.

PostgreSQL (a fresh database `zbor_cluster`) and Redis (database 12, flushed) as they run here;
TWO granian app servers (one process each, on their own ports) behind ONE nginx with the
one-second microcache of deploy/nginx.conf; ONE task worker (`zbor run_huey --workers 1`).
Settings: config.settings.dev with DEBUG=false, so that the demo payment provider (which
production refuses) completes card payments over HTTP; the abuse limits are off (one client
makes every donation) and the proof of work is small (solved here in Python, as a browser would).

1. Donations through both app servers at once land exactly once: 8 threads make 200 donations
   on one campaign, alternating between the app servers directly (not through nginx, so both are
   surely used): half demo card payments (form, proof of work, test checkout completed on the
   *other* server), half bank pledges. About one form in eight is sent twice with the same
   idempotency key, once to each server at the same moment (a double click landing on two
   servers); so is the checkout's "complete". Each key must make exactly one donation; the
   succeeded card payments and pending pledges must be what was sent; the campaign's collected
   total in the public API must rise by exactly the card payments; `zbor reconcile` clean.
2. Both app servers and nginx agree within the freshness bound: after the last payment, the
   campaign page and the API are polled on each app server and through nginx; each must show
   the new total for good within 2 s (through nginx, with its own one-second cache: 3 s).
3. The task worker runs: a card donation with an email address (made through nginx) gets its
   receipt mailed by the worker (to files in the run's directory) within 10 s.

    make bench-cluster
    .venv/bin/python bench/cluster.py --donations 400 --threads 16
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import html
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django.core.mail.backends.filebased import EmailBackend  # noqa: E402

from bench import harness  # noqa: E402
from bench.harness import BIN, ROOT, Processes  # noqa: E402
from bench.run import DEMO, Results, base_env  # noqa: E402

DATABASE = "zbor_cluster"
REDIS_URL = "redis://127.0.0.1:6379/12"
MAIL_DIR_VARIABLE = "ZBOR_CLUSTER_MAIL_DIR"
PAGE = f"/en/campaigns/{DEMO}/"
API = f"/api/v1/campaigns/{DEMO}"
DONATE = f"/en/campaigns/{DEMO}/donate/"
APP_BOUND, NGINX_BOUND = 2.0, 3.0  # seconds: the freshness promised by docs/deploy.md


class MailToFiles(EmailBackend):
    """Django's file backend, with its directory from the environment (settings have no
    EMAIL_FILE_PATH): the task worker writes receipts there, one file per connection."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs["file_path"] = os.environ[MAIL_DIR_VARIABLE]
        super().__init__(*args, **kwargs)


class Failed(Exception):
    """A request answered something other than what a browser expects at that step."""


# --- a donor, over HTTP ----------------------------------------------------------------------


def _session():
    import requests  # only the bench process needs it; the task worker imports this module too

    return requests.Session()


def _field(page: str, pattern: str, what: str) -> str:
    match = re.search(pattern, page)
    if match is None:
        raise Failed(f"the donate page has no {what}")
    return html.unescape(match.group(1))


def _solve(challenge_json: str) -> str:
    """What zbor/site/static/zbor/challenge.js puts in the form: ALTCHA's v1 payload."""
    import altcha

    task = json.loads(challenge_json)
    solution = altcha.solve_challenge_v1(task["challenge"], task["salt"], task["algorithm"], task["maxnumber"])
    if solution is None:
        raise Failed("the proof of work has no solution below its maxnumber")
    payload = {
        "algorithm": task["algorithm"],
        "challenge": task["challenge"],
        "number": solution.number,
        "salt": task["salt"],
        "signature": task["signature"],
    }
    return base64.b64encode(json.dumps(payload).encode()).decode()


@dataclass
class Form:
    """The donate form as a browser would send it."""

    key: str
    data: dict[str, str]


def fill_form(session, server: str, *, method: str, amount: int, email: str = "") -> Form:
    response = session.get(server + DONATE, timeout=30)
    if response.status_code != 200:
        raise Failed(f"GET donate page: {response.status_code}")
    page = response.text
    key = _field(page, r'name="idempotency_key" value="([^"]+)"', "idempotency key")
    data = {
        "csrfmiddlewaretoken": _field(page, r'name="csrfmiddlewaretoken" value="([^"]+)"', "CSRF token"),
        "idempotency_key": key,
        "amount": f"{amount // 100}.{amount % 100:02d}",
        "need": "",
        "public_name": "",
        "message": "",
        "email": email,
        "method": method,
        "challenge": _solve(_field(page, r'data-challenge="([^"]+)"', "proof-of-work challenge"))
        if method == "demo"
        else "",
    }
    return Form(key, data)


def _post(session, url: str, data: dict[str, str]) -> tuple[int, str]:
    """The answer's status and where it leads; for a refused form (400), its first error."""
    response = session.post(url, data=data, allow_redirects=False, timeout=30)
    if response.status_code == 400:
        error = re.search(r'class="(?:error|form-errors)"[^>]*>(?:<p>)?([^<]+)', response.text)
        return 400, html.unescape(error.group(1)).strip() if error else ""
    return response.status_code, response.headers.get("Location", "")


def at_once(session, calls: list[tuple[str, dict[str, str]]]) -> list[tuple[int, str]]:
    """POSTs sent at the same moment from copies of one browser (a double click)."""
    sessions = [session] + [_session() for _ in calls[1:]]
    for copy in sessions[1:]:
        copy.cookies.update(session.cookies)
    barrier = threading.Barrier(len(calls))
    answers: list[tuple[int, str]] = [(0, "")] * len(calls)
    errors: list[BaseException] = []

    def send(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            answers[index] = _post(sessions[index], *calls[index])
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return answers


def complete_checkout(session, server: str, location: str, *, twice_on: str = "") -> float:
    """The test checkout's "Complete test payment" (on ``server``; also on ``twice_on`` at the
    same moment when given). Returns when it was done."""
    if not location.startswith("/en/donations/test-checkout/"):
        raise Failed(f"the card form did not lead to the test checkout but to {location!r}")
    response = session.get(server + location, timeout=30)
    if response.status_code != 200:
        raise Failed(f"GET test checkout: {response.status_code}")
    token = _field(response.text, r'name="csrfmiddlewaretoken" value="([^"]+)"', "CSRF token")
    data = {"csrfmiddlewaretoken": token, "outcome": "complete"}
    calls = [(server + location, data)] + ([(twice_on + location, data)] if twice_on else [])
    answers = at_once(session, calls)
    for status, to in answers:
        if status != 302 or not to.startswith("/en/donations/"):
            raise Failed(f"POST complete: {status} to {to!r}")
    return time.monotonic()


@dataclass
class Outcome:
    key: str = ""
    method: str = ""
    amount: int = 0
    twice: bool = False
    #: for a form sent twice: how many of the two answers refused it (a 400 page)
    refused: int = 0
    refused_with: str = ""
    completed_at: float = 0.0
    error: str = ""
    servers: set[str] = field(default_factory=set)


def donate(index: int, apps: list[str], local: threading.local, twice: bool) -> Outcome:
    """Donation ``index``: card payments on even, bank pledges on odd numbers; the form on one
    app server, the test checkout on the other."""
    if not hasattr(local, "session"):
        local.session = _session()
    session = local.session
    method = "demo" if index % 2 == 0 else "bank"
    here, there = apps[(index // 2) % 2], apps[1 - (index // 2) % 2]
    amount = (100 + index) if method == "demo" else (2000 + index)
    outcome = Outcome(method=method, amount=amount, twice=twice, servers={here, there})
    try:
        form = fill_form(session, here, method=method, amount=amount)
        outcome.key = form.key
        if twice:
            answers = at_once(session, [(here + DONATE, form.data), (there + DONATE, form.data)])
        else:
            answers = [_post(session, here + DONATE, form.data)]
        good = [to for status, to in answers if status == 302]
        outcome.refused = sum(1 for status, _to in answers if status == 400)
        outcome.refused_with = next((error for status, error in answers if status == 400), "")
        if not good or len(good) + outcome.refused != len(answers):
            raise Failed(f"POST donate form ({method}): {[status for status, _to in answers]}")
        if len(set(good)) != 1:
            raise Failed(f"one form, two donations: the answers lead to {good}")
        if method == "bank":
            if not good[0].startswith("/en/donations/"):
                raise Failed(f"the pledge did not lead to its status page but to {good[0]!r}")
        else:
            outcome.completed_at = complete_checkout(session, there, good[0], twice_on=here if twice else "")
    except Exception as exc:  # noqa: BLE001 - every failure is reported, the run fails
        outcome.error = f"{type(exc).__name__}: {exc}"
    return outcome


# --- what the site and the database say -------------------------------------------------------


def api_collected(server: str) -> tuple[int, str]:
    collected = json.loads(harness.fetch(server + API))["collected"]
    return collected["amount"], collected["formatted"]


def page_collected(server: str) -> str:
    page = harness.fetch(server + PAGE).decode()
    match = re.search(r"Collected: <strong>([^<]+)</strong>", page)
    return html.unescape(match.group(1)) if match else "(no total on the page)"


DATABASE_QUERY = """
import json, sys
import django
django.setup()
from django.db.models import Count
from zbor.campaigns.models import Campaign
from zbor.donations.models import Donation
from zbor.donations.selectors import campaign_money
campaign = Campaign.objects.get(slug=sys.argv[1])
keys = json.load(open(sys.argv[2]))
rows = Donation.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", "campaign__slug", "provider", "status", "amount")
print(json.dumps({
    "campaign_donations": Donation.objects.filter(campaign=campaign).count(),
    "by_status": {f"{p}:{s}": n for p, s, n in Donation.objects.filter(campaign=campaign)
                  .values_list("provider", "status").annotate(n=Count("id")).values_list("provider", "status", "n")},
    "collected": campaign_money(campaign.pk, []).collected,
    "donations": {key: [slug, provider, status, amount] for key, slug, provider, status, amount in rows},
}))
"""


def database(env: dict[str, str], work: Path, keys: list[str]) -> dict[str, Any]:
    keys_file = work / "keys.json"
    keys_file.write_text(json.dumps(keys))
    out = subprocess.run(
        [str(BIN / "python"), "-c", DATABASE_QUERY, DEMO, str(keys_file)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if out.returncode != 0:
        raise Failed(f"reading the database failed:\n{out.stderr[-1500:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the checks -----------------------------------------------------------------------------------


@dataclass
class Run:
    outcomes: list[Outcome]
    seconds: float
    #: what the public API and the database said before the first donation
    api_before: int
    database_before: dict[str, Any]
    #: when the polling of check 2 began, and when the last card payment was completed
    ended: float = 0.0
    last_completed: float = 0.0

    @property
    def cards(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.method == "demo" and not o.error]

    @property
    def card_sum(self) -> int:
        return sum(o.amount for o in self.cards)


def make_donations(env: dict[str, str], work: Path, apps: list[str], front: str, count: int, threads: int) -> Run:
    """Check 1's load: ``count`` donations from ``threads`` threads, one form in eight sent twice.
    Meanwhile a visitor reads the campaign page and the API everywhere, so that every cache holds
    a page when the last payment lands (check 2 measures how long they keep it)."""
    api_before, _text = api_collected(apps[0])
    database_before = database(env, work, [])
    twice = {i for i in range(count) if i % 16 in (0, 3)}  # one card form and one pledge in sixteen
    local = threading.local()
    stop = threading.Event()

    def visit() -> None:
        while not stop.is_set():
            for server in (*apps, front):
                with contextlib.suppress(OSError):  # a failure to read shows in check 2
                    api_collected(server)
                    page_collected(server)
            stop.wait(0.1)

    visitor = threading.Thread(target=visit)
    visitor.start()
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(threads) as pool:
            outcomes = list(pool.map(lambda i: donate(i, apps, local, i in twice), range(count)))
    finally:
        stop.set()
        visitor.join()
    run = Run(outcomes, time.monotonic() - started, api_before, database_before, ended=time.monotonic())
    run.last_completed = max((o.completed_at for o in run.cards), default=run.ended)
    return run


def check_donations(results: Results, env: dict[str, str], work: Path, run: Run) -> None:
    """Check 1: every form answered as a browser expects, and the database holds exactly them."""
    count, outcomes = len(run.outcomes), run.outcomes
    errors = [f"#{i}: {o.error}" for i, o in enumerate(outcomes) if o.error]
    keys = [o.key for o in outcomes if o.key]
    cards = run.cards
    pledges = [o for o in outcomes if o.method == "bank" and not o.error]
    sent_twice = [o for o in outcomes if o.twice]
    refused = [o for o in sent_twice if o.refused]
    results.check(
        f"{count} donations, alternating between the 2 app servers directly",
        f"{count - len(errors)} went through in {run.seconds:.1f} s ({count / run.seconds:.0f}/s); "
        f"{len(sent_twice)} forms sent to both servers at once, the second answer a form error for "
        f"{sum(1 for o in refused if o.method == 'demo')} of {sum(1 for o in sent_twice if o.method == 'demo')} card forms "
        f"and {sum(1 for o in refused if o.method == 'bank')} of {sum(1 for o in sent_twice if o.method == 'bank')} pledges"
        + (f" ({refused[0].refused_with[:70]!r})" if refused else "")
        + (f"; errors: {'; '.join(errors[:3])}" if errors else ""),
        not errors,
    )
    after = database(env, work, keys)
    rows: dict[str, list] = after["donations"]
    wrong = []
    for o in outcomes:
        if not o.key:
            continue
        row = rows.get(o.key)
        expected = [DEMO, o.method, "succeeded" if o.method == "demo" else "pending", o.amount]
        if row != expected:
            wrong.append(f"{o.key}: {row} instead of {expected}")
    new = after["campaign_donations"] - run.database_before["campaign_donations"]
    distinct = len(set(keys))
    succeeded = sum(1 for o in cards if rows.get(o.key, [None])[2:3] == ["succeeded"])
    pending = sum(1 for o in pledges if rows.get(o.key, [None])[2:3] == ["pending"])
    results.check(
        "each idempotency key made exactly one donation",
        f"{distinct} distinct keys from {len(keys)} forms, {new} new donations in the database; "
        f"{succeeded} succeeded card payments of {len(cards)} sent, {pending} pending pledges of {len(pledges)} sent"
        + (f"; wrong: {'; '.join(wrong[:3])}" if wrong else ""),
        distinct == len(keys) == count
        and new == distinct
        and not wrong
        and succeeded == len(cards)
        and pending == len(pledges),
    )
    rose = after["collected"] - run.database_before["collected"]
    results.check(
        "the ledger's collected total rose by exactly the card payments",
        f"+{rose} minor units, card payments {run.card_sum}",
        rose == run.card_sum,
    )


@dataclass
class Freshness:
    expected: int
    #: per source ("app 1 page", "nginx API", ...): seconds after the last payment from which on it
    #: always showed the new total (None: it did not, by the end), and what it showed last
    fresh_after: dict[str, float | None]
    last_seen: dict[str, str]
    formatted: str
    #: the total the public API showed at the end, in minor units
    shown: int


def poll_freshness(front: str, apps: list[str], expected: int, since: float) -> Freshness:
    """Check 2's measurement: the campaign page and the API on each app server and through nginx,
    polled until each has shown the expected total for longer than every cache lasts."""
    formatted: dict[str, str] = {}

    def api(server: str) -> Callable[[], str]:
        def read() -> str:
            amount, text = api_collected(server)
            if amount == expected:
                formatted["text"] = text
            return str(amount)

        return read

    def page(server: str) -> Callable[[], str]:
        return lambda: page_collected(server)

    sources: dict[str, Callable[[], str]] = {}
    for name, server in (("app 1", apps[0]), ("app 2", apps[1]), ("nginx", front)):
        sources[f"{name} API"] = api(server)
        sources[f"{name} page"] = page(server)
    fresh_after: dict[str, float | None] = dict.fromkeys(sources)
    last_seen: dict[str, str] = {}
    while time.monotonic() < since + 10:
        for name, read in sources.items():
            value = last_seen[name] = read()
            good = value == str(expected) if name.endswith("API") else value == formatted.get("text")
            if not good:
                fresh_after[name] = None
            elif fresh_after[name] is None:
                fresh_after[name] = time.monotonic() - since
        settled = [t for t in fresh_after.values() if t is not None]
        if len(settled) == len(sources) and time.monotonic() - since > max(settled) + NGINX_BOUND:
            break  # every source has shown the new total for longer than any cache keeps a page
        time.sleep(0.05)
    return Freshness(
        expected, fresh_after, last_seen, formatted.get("text", str(expected)), int(last_seen["app 1 API"])
    )


def check_freshness(results: Results, fresh: Freshness) -> None:
    for name in ("app 1", "app 2", "nginx"):
        bound = NGINX_BOUND if name == "nginx" else APP_BOUND
        shown, ok = [], True
        for kind in ("page", "API"):
            after = fresh.fresh_after[f"{name} {kind}"]
            shown.append(
                f"{kind} {after:.2f} s"
                if after is not None
                else f"{kind} never (shows {fresh.last_seen[f'{name} {kind}']})"
            )
            ok = ok and after is not None and after <= bound
        results.check(
            f"{name}{' (its 1 s cache before the apps)' if name == 'nginx' else ''} shows the new total "
            f"{fresh.formatted} for good",
            f"{', '.join(shown)} after the last payment, target ≤ {bound:.0f} s",
            ok,
        )


def check_receipt(results: Results, front: str, mail_dir: Path, worker) -> None:
    """Check 3: a card donation with an email, through nginx; the worker mails the receipt."""
    session = _session()
    address = "donor-cluster@example.org"
    form = fill_form(session, front, method="demo", amount=1500, email=address)
    status, location = _post(session, front + DONATE, form.data)
    if status != 302:
        raise Failed(f"POST donate form through nginx: {status}")
    completed = complete_checkout(session, front, location)
    found = ""
    while not found and time.monotonic() - completed < 15 and worker.poll() is None:
        for path in mail_dir.glob("*.log"):
            text = path.read_text(errors="replace")
            if address in text and "application/pdf" in text:
                found = path.name
        time.sleep(0.1)
    delay = time.monotonic() - completed
    if worker.poll() is not None:
        detail = f"the task worker exited ({worker.returncode})"
    elif found:
        detail = f"receipt with its PDF in {found} {delay:.1f} s after the payment, target ≤ 10 s"
    else:
        detail = f"no receipt after {delay:.1f} s"
    results.check(
        "the task worker mailed the receipt of a donation made through nginx", detail, bool(found) and delay <= 10
    )


def reconcile(results: Results, env: dict[str, str]) -> None:
    out = subprocess.run(
        [str(BIN / "zbor"), "reconcile"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    clean = out.returncode == 0 and "clean: no differences" in out.stdout
    results.check(
        "zbor reconcile after every donation",
        "clean: no differences" if clean else (out.stdout + out.stderr)[-800:],
        clean,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--donations", type=int, default=200)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    started = time.monotonic()
    harness.need_tools()
    work = Path(tempfile.mkdtemp(prefix="zbor-cluster-"))
    mail_dir = work / "mail"
    mail_dir.mkdir()
    print(f"Zbor cluster check, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores; logs in {work}", flush=True)
    print("PostgreSQL + Redis, nginx (1 s cache) → 2 granian app servers (1 process each), 1 task worker", flush=True)
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    env = base_env(
        work / "data",
        DJANGO_SETTINGS_MODULE="config.settings.dev",
        DATABASE_URL=harness.fresh_database(DATABASE),
        REDIS_URL=REDIS_URL,
        ZBOR_CHALLENGE_MAX_NUMBER="1000",
        EMAIL_BACKEND="bench.cluster.MailToFiles",
        **{MAIL_DIR_VARIABLE: str(mail_dir)},
    )
    harness.zbor(["migrate", "--no-input"], env)
    harness.zbor(["load_demo"], env)
    redis.Redis.from_url(REDIS_URL).flushdb()
    results = Results()
    procs = Processes(work)
    try:
        ports = [harness.free_port() for _ in range(3)]
        for number, port in enumerate(ports[:2], 1):
            harness.granian(procs, f"granian-app{number}", port, env, workers=1)
        harness.nginx(procs, work, ports[2], ports[:2])
        worker = procs.start("huey-worker", [str(BIN / "zbor"), "run_huey", "--workers", "1"], env)
        apps = [f"http://127.0.0.1:{port}" for port in ports[:2]]
        front = f"http://127.0.0.1:{ports[2]}"
        for url in (*apps, front):
            harness.wait_for(url + "/en/")
        print(
            f"   set up in {time.monotonic() - started:.0f} s; app servers {', '.join(apps)}, nginx {front}",
            flush=True,
        )

        print(
            f"\n1. {args.donations} donations from {args.threads} threads through both app servers at once", flush=True
        )
        run = make_donations(env, work, apps, front, args.donations, args.threads)
        print(
            f"   done in {run.seconds:.1f} s; polling every source from {run.ended - run.last_completed:.2f} s after the "
            "last payment (check 2), then the database",
            flush=True,
        )
        fresh = poll_freshness(front, apps, run.api_before + run.card_sum, run.last_completed)
        check_donations(results, env, work, run)
        rose = fresh.shown - run.api_before
        results.check(
            "the public API's collected total rose by exactly the card payments",
            f"{run.api_before} → {fresh.shown} minor units: +{rose}, card payments {run.card_sum}",
            rose == run.card_sum,
        )

        print("\n2. Both app servers and nginx agree within the freshness bound", flush=True)
        check_freshness(results, fresh)

        print("\n3. The task worker", flush=True)
        check_receipt(results, front, mail_dir, worker)
        print("", flush=True)
        reconcile(results, env)
    except Exception as exc:  # noqa: BLE001 - reported as a failed check; the logs tell more
        results.check("the run itself", f"stopped by {type(exc).__name__}: {exc}", False)
    finally:
        procs.stop_all()
    failed = [name for name, _m, ok in results.rows if not ok]
    print(
        f"\n{'PASS' if not failed else 'FAIL'}: {len(results.rows) - len(failed)} of {len(results.rows)} checks met "
        f"in {time.monotonic() - started:.0f} s." + (f" FAILED: {'; '.join(failed)}. Logs in {work}" if failed else "")
    )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
