"""Check 4 of `make bench-cluster` (bench/cluster.py): a rolling upgrade under load.

While deploy/upgrade.sh moves the cluster from an older release to this checkout's commit
(building it, migrating, switching `current`, restarting the two app servers one at a time
with the fake systemctl of bench/cluster_install.py, then the worker), visitors read pages and
the API through nginx and donors give through nginx (card payments completed at the test
checkout, bank pledges). Every answer must be what a browser expects (no 5xx, no connection
error), every donation made during it must be in the database exactly once, and afterwards
both app servers and the worker must run the new release. Meanwhile each app server is probed
directly (/healthz every 50 ms): how long each was away is reported, not judged (a client
talking to one app server directly sees it restart; nginx sends the others elsewhere).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench import harness
from bench.cluster_checks import wrong_rows
from bench.cluster_donor import Outcome, donate
from bench.cluster_install import Site
from bench.cluster_read import database
from bench.run import PAGES, Results

WEB_UNITS = ("zbor-web1", "zbor-web2")
WORKER_UNIT = "zbor-worker"


@dataclass
class Load:
    """What the visitors and donors saw while the upgrade ran."""

    pages: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    #: the demo campaign's donations in the database before the load began
    before: int = 0
    away: dict[str, list[float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, what: str) -> None:
        with self.lock:
            self.failures.append(what)


def _visitor(front: str, load: Load, stop: threading.Event) -> None:
    for path in itertools.cycle(PAGES.values()):
        if stop.is_set():
            return
        try:
            harness.fetch(front + path)
            with load.lock:
                load.pages[path] += 1
        except OSError as exc:  # urllib's HTTPError (a 5xx) is an OSError too
            load.fail(f"GET {path}: {exc}")


def _donor(front: str, load: Load, stop: threading.Event, numbers: itertools.count, lock: threading.Lock) -> None:
    local = threading.local()
    while not stop.is_set():
        with lock:
            number = next(numbers)
        outcome = donate(number, [front, front], local, twice=False)
        with load.lock:
            load.outcomes.append(outcome)
        if outcome.error:
            load.fail(f"donation #{number}: {outcome.error}")


def _prober(apps: list[str], load: Load, stop: threading.Event) -> None:
    """Each app server's /healthz, directly: the seconds each one did not answer, per outage."""
    down_since: dict[str, float | None] = dict.fromkeys(apps)
    for app in apps:
        load.away[app] = []
    while not stop.is_set():
        for app in apps:
            try:
                harness.fetch(app + "/healthz")
                since = down_since[app]
                if since is not None:
                    load.away[app].append(time.monotonic() - since)
                    down_since[app] = None
            except OSError:
                if down_since[app] is None:
                    down_since[app] = time.monotonic()
        stop.wait(0.05)


def start_cluster(site: Site, ports: list[int]) -> None:
    """The two app servers and the worker, as systemd would start them, each waiting for ready."""
    from bench.cluster_install import granian_command, ready_probe

    for unit, port in zip(WEB_UNITS, ports, strict=True):
        site.add_unit(unit, granian_command(port), ready_probe(port))
    site.add_unit(
        WORKER_UNIT,
        '"$PWD/.venv/bin/zbor" run_huey --workers 1',
        ready=f'cd -P "{site.current}" && set -a && . "{site.env_file}" && set +a && '
        ".venv/bin/zbor ready --part database --part tasks",
        kill_signal="INT",
    )
    for unit in (*WEB_UNITS, WORKER_UNIT):
        site.systemctl("start", unit)


def upgrade_under_load(
    results: Results, site: Site, env: dict[str, str], work: Path, front: str, apps: list[str], version: str
) -> None:
    load, stop = Load(before=database(env, work, [])["campaign_donations"]), threading.Event()
    numbers, numbers_lock = itertools.count(1000), threading.Lock()
    threads = [threading.Thread(target=_visitor, args=(front, load, stop)) for _ in range(3)]
    threads += [threading.Thread(target=_donor, args=(front, load, stop, numbers, numbers_lock)) for _ in range(3)]
    threads.append(threading.Thread(target=_prober, args=(apps, load, stop)))
    old = site.current.resolve()
    log = work / "upgrade.log"
    for thread in threads:
        thread.start()
    started = time.monotonic()
    try:
        time.sleep(1)  # the load is running before the upgrade starts
        done = site.run(
            "upgrade.sh",
            version,
            log=log,
            ZBOR_WEB_UNITS=" ".join(WEB_UNITS),
            ZBOR_READY_URLS=" ".join(f"{app}/readyz" for app in apps),
            ZBOR_WORKER_UNITS=WORKER_UNIT,
        )
        upgraded = time.monotonic() - started
        time.sleep(2)  # and goes on a little after it
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    steps = [line[4:] for line in log.read_text().splitlines() if line.startswith("==> ")]
    print("   " + "\n   ".join(steps), flush=True)
    new = site.current.resolve()
    results.check(
        f"deploy/upgrade.sh {old.name} → {new.name} under load (app servers restarted one at a time)",
        f"exit {done.returncode} after {upgraded:.1f} s; see {log}",
        done.returncode == 0 and new != old and new.name == version[:12],
    )
    _check_answers(results, load)
    _check_landed(results, env, work, load)
    running = {unit: site.release_of(unit).name for unit in (*WEB_UNITS, WORKER_UNIT)}
    results.check(
        "both app servers and the worker now run the new release",
        ", ".join(f"{unit}: {name}" for unit, name in running.items()),
        set(running.values()) == {new.name},
    )


def _check_answers(results: Results, load: Load) -> None:
    away = "; ".join(
        f"{app.rsplit(':', 1)[-1]} away " + (", ".join(f"{s:.1f} s" for s in spans) or "never")
        for app, spans in load.away.items()
    )
    results.check(
        "every request through nginx during the upgrade answered as expected",
        f"{sum(load.pages.values())} page and API reads, {len(load.outcomes)} donations; "
        f"{len(load.failures)} failed"
        + (f": {'; '.join(load.failures[:3])}" if load.failures else "")
        + f" (directly, app servers on port {away})",
        not load.failures and sum(load.pages.values()) > 0 and len(load.outcomes) > 0,
    )


def _check_landed(results: Results, env: dict[str, str], work: Path, load: Load) -> None:
    keys = [o.key for o in load.outcomes if o.key]
    after = database(env, work, keys)
    rows = after["donations"]
    new = after["campaign_donations"] - load.before
    wrong = wrong_rows([o for o in load.outcomes if not o.error], rows)
    results.check(
        "every donation made during the upgrade landed exactly once",
        f"{len(set(keys))} distinct keys from {len(load.outcomes)} forms, {new} new donations in the database, "
        f"{len(rows)} with those keys" + (f"; wrong: {'; '.join(wrong[:3])}" if wrong else ""),
        len(set(keys)) == len(keys) == len(rows) == new == len(load.outcomes) and not wrong,
    )
