"""A donor of `make bench-cluster` (bench/cluster.py), over HTTP as a browser would: the donate
form with its proof of work, the test checkout, a double click landing on two app servers; and
check 1's load, many donors at once through both app servers."""

from __future__ import annotations

import base64
import contextlib
import html
import json
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.cluster_read import Failed, api_collected, database, page_collected
from bench.run import DEMO

DONATE = f"/en/campaigns/{DEMO}/donate/"


def new_session():
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


def post_form(session, url: str, data: dict[str, str]) -> tuple[int, str]:
    """The answer's status and where it leads; for a refused form (400), its first error."""
    response = session.post(url, data=data, allow_redirects=False, timeout=30)
    if response.status_code == 400:
        error = re.search(r'class="(?:error|form-errors)"[^>]*>(?:<p>)?([^<]+)', response.text)
        return 400, html.unescape(error.group(1)).strip() if error else ""
    return response.status_code, response.headers.get("Location", "")


def at_once(session, calls: list[tuple[str, dict[str, str]]]) -> list[tuple[int, str]]:
    """POSTs sent at the same moment from copies of one browser (a double click)."""
    sessions = [session] + [new_session() for _ in calls[1:]]
    for copy in sessions[1:]:
        copy.cookies.update(session.cookies)
    barrier = threading.Barrier(len(calls))
    answers: list[tuple[int, str]] = [(0, "")] * len(calls)
    errors: list[BaseException] = []

    def send(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            answers[index] = post_form(sessions[index], *calls[index])
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
        local.session = new_session()
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
            answers = [post_form(session, here + DONATE, form.data)]
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
