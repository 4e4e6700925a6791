"""The checks of `make bench-cluster` (bench/cluster.py): donations land exactly once (1), every
app server and nginx show the new total within the freshness bound (2), the task worker mails a
receipt (3), and `zbor reconcile` is clean."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.cluster_donor import DONATE, Outcome, Run, complete_checkout, fill_form, new_session, post_form
from bench.cluster_read import Failed, api_collected, database, page_collected
from bench.harness import BIN, ROOT
from bench.run import DEMO, Results

APP_BOUND, NGINX_BOUND = 2.0, 3.0  # seconds: the freshness promised by docs/deploy.md


def check_donations(results: Results, env: dict[str, str], work: Path, run: Run) -> None:
    """Check 1: every form answered as a browser expects, and the database holds exactly them."""
    _check_answers(results, run)
    keys = [o.key for o in run.outcomes if o.key]
    after = database(env, work, keys)
    _check_keys(results, run, keys, after)
    rose = after["collected"] - run.database_before["collected"]
    results.check(
        "the ledger's collected total rose by exactly the card payments",
        f"+{rose} minor units, card payments {run.card_sum}",
        rose == run.card_sum,
    )


def _check_answers(results: Results, run: Run) -> None:
    """Every donation went through; what the forms sent twice were answered."""
    count, outcomes = len(run.outcomes), run.outcomes
    errors = [f"#{i}: {o.error}" for i, o in enumerate(outcomes) if o.error]
    results.check(
        f"{count} donations, alternating between the 2 app servers directly",
        f"{count - len(errors)} went through in {run.seconds:.1f} s ({count / run.seconds:.0f}/s); "
        + _sent_twice(outcomes)
        + (f"; errors: {'; '.join(errors[:3])}" if errors else ""),
        not errors,
    )


def _sent_twice(outcomes: list[Outcome]) -> str:
    """How many forms were sent to both servers at once, and how many of the second answers were
    a form error, by method."""
    sent_twice = [o for o in outcomes if o.twice]
    refused = [o for o in sent_twice if o.refused]

    def of(method: str) -> str:
        return f"{sum(1 for o in refused if o.method == method)} of {sum(1 for o in sent_twice if o.method == method)}"

    return (
        f"{len(sent_twice)} forms sent to both servers at once, the second answer a form error for "
        f"{of('demo')} card forms and {of('bank')} pledges"
        + (f" ({refused[0].refused_with[:70]!r})" if refused else "")
    )


def _check_keys(results: Results, run: Run, keys: list[str], after: dict[str, Any]) -> None:
    """Each idempotency key made one donation, with what was sent, and nothing else was made."""
    rows: dict[str, list] = after["donations"]
    wrong = wrong_rows(run.outcomes, rows)
    new = after["campaign_donations"] - run.database_before["campaign_donations"]
    distinct = len(set(keys))
    cards = run.cards
    pledges = [o for o in run.outcomes if o.method == "bank" and not o.error]
    succeeded = sum(1 for o in cards if rows.get(o.key, [None])[2:3] == ["succeeded"])
    pending = sum(1 for o in pledges if rows.get(o.key, [None])[2:3] == ["pending"])
    results.check(
        "each idempotency key made exactly one donation",
        f"{distinct} distinct keys from {len(keys)} forms, {new} new donations in the database; "
        f"{succeeded} succeeded card payments of {len(cards)} sent, {pending} pending pledges of {len(pledges)} sent"
        + (f"; wrong: {'; '.join(wrong[:3])}" if wrong else ""),
        distinct == len(keys) == len(run.outcomes)
        and new == distinct
        and not wrong
        and succeeded == len(cards)
        and pending == len(pledges),
    )


def wrong_rows(outcomes: list[Outcome], rows: dict[str, list]) -> list[str]:
    """The donations in the database that are not what their form sent."""
    wrong = []
    for o in outcomes:
        if not o.key:
            continue
        row = rows.get(o.key)
        expected = [DEMO, o.method, "succeeded" if o.method == "demo" else "pending", o.amount]
        if row != expected:
            wrong.append(f"{o.key}: {row} instead of {expected}")
    return wrong


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
    session = new_session()
    address = "donor-cluster@example.org"
    form = fill_form(session, front, method="demo", amount=1500, email=address)
    status, location = post_form(session, front + DONATE, form.data)
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
