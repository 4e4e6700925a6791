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

This module sets the cluster up and runs the checks in order: the donor over HTTP and check 1's
load are in bench/cluster_donor.py, what the site and the database say in bench/cluster_read.py,
the checks in bench/cluster_checks.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django.core.mail.backends.filebased import EmailBackend  # noqa: E402

from bench import harness  # noqa: E402
from bench.cluster_checks import (  # noqa: E402
    check_donations,
    check_freshness,
    check_receipt,
    poll_freshness,
    reconcile,
)
from bench.cluster_donor import make_donations  # noqa: E402
from bench.harness import BIN, Processes  # noqa: E402
from bench.run import Results, base_env  # noqa: E402

DATABASE = "zbor_cluster"
REDIS_URL = "redis://127.0.0.1:6379/12"
MAIL_DIR_VARIABLE = "ZBOR_CLUSTER_MAIL_DIR"


class MailToFiles(EmailBackend):
    """Django's file backend, with its directory from the environment (settings have no
    EMAIL_FILE_PATH): the task worker writes receipts there, one file per connection."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs["file_path"] = os.environ[MAIL_DIR_VARIABLE]
        super().__init__(*args, **kwargs)


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
