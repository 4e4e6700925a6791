"""`make bench-cluster`: the recommended production shape on one machine, checked end to end.

PostgreSQL (a fresh database `zbor_cluster`) and Redis (database 12, flushed) as they run here;
TWO granian app servers (one process each, on their own ports) behind ONE nginx with the
one-second microcache of deploy/nginx.conf; ONE task worker (`zbor run_huey --workers 1`).
Settings: config.settings.dev with DEBUG=false, so that the demo payment provider (which
production refuses) completes card payments over HTTP; the abuse limits are off (one client
makes every donation) and the proof of work is small (solved here in Python, as a browser would).

0. Installed as an operator would (bench/cluster_install.py): deploy/nginx.conf passes
   `nginx -t`; deploy/install.sh twice into a temporary prefix with SQLite and production
   settings (the second run changes nothing, the environment file is untouched), then granian
   answers /readyz; the cluster itself installed with install.sh on v0.5.0 (OLD_RELEASE), its
   PostgreSQL role and database made by install.sh, its processes run by a stand-in for
   systemctl (what deploy/upgrade.sh restarts).
4. (run first, right after the set-up) The rolling upgrade (bench/cluster_upgrade.py):
   deploy/upgrade.sh from v0.5.0 to this checkout's commit (committed: uncommitted changes are
   not in it) while visitors and donors go through nginx; no failed request, every donation
   made meanwhile landed once, both app servers and the worker run the new release. Checks
   1 to 3 then run on the upgraded cluster.
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

This module sets the cluster up and runs the checks in order (0, 4, 1, 2, 3): the donor over HTTP and check 1's
load are in bench/cluster_donor.py, what the site and the database say in bench/cluster_read.py,
the checks in bench/cluster_checks.py.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402
from bench.cluster_checks import (  # noqa: E402
    check_donations,
    check_freshness,
    check_receipt,
    poll_freshness,
    reconcile,
)
from bench.cluster_donor import make_donations  # noqa: E402
from bench.cluster_install import Site, check_install, check_nginx_conf, head_version, install_cluster  # noqa: E402
from bench.cluster_upgrade import WORKER_UNIT, start_cluster, upgrade_under_load  # noqa: E402
from bench.harness import ROOT, Processes  # noqa: E402
from bench.run import Results  # noqa: E402

DATABASE = "zbor_cluster"
REDIS_URL = "redis://127.0.0.1:6379/12"
MAIL_DIR_VARIABLE = "ZBOR_CLUSTER_MAIL_DIR"
#: The release the cluster starts on before check 4 upgrades it: v0.5.0 (CHANGELOG.md).
OLD_RELEASE = "3a7d619"

# Django's file backend, with its directory from the environment (settings have no
# EMAIL_FILE_PATH): the task worker writes receipts there, one file per connection. A module of
# its own on PYTHONPATH, so that every release's processes can import it.
MAIL_MODULE = """
import os
from django.core.mail.backends.filebased import EmailBackend


class MailToFiles(EmailBackend):
    def __init__(self, *args, **kwargs):
        kwargs["file_path"] = os.environ["ZBOR_CLUSTER_MAIL_DIR"]
        super().__init__(*args, **kwargs)
"""


class Worker:
    """The task worker started by the fake systemctl, as check 3 watches it (Popen's poll)."""

    def __init__(self, site: Site):
        self.site, self.returncode = site, None

    def poll(self) -> int | None:
        return None if self.site.alive(WORKER_UNIT) else 1


def site_values(work: Path, mail_dir: Path) -> dict[str, str]:
    """The cluster's environment file (config.settings.dev with DEBUG=false: the demo provider)."""
    pylib = work / "pylib"
    pylib.mkdir()
    (pylib / "zbor_bench_mail.py").write_text(MAIL_MODULE)
    data = work / "cluster" / "srv"
    # What bench/run.py's base_env sets, in an environment file of their own.
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # One client makes every donation: the abuse limits would stop it.
        "ZBOR_CARD_STARTS_PER_CLIENT_HOUR": "0",
        "ZBOR_PLEDGES_PER_CLIENT_HOUR": "0",
        "ZBOR_DONATIONS_PER_CAMPAIGN_HOUR": "0",
        "ZBOR_CHALLENGE_MAX_NUMBER": "1000",
        "DATABASE_URL": f"postgres://{DATABASE}:bench-only@127.0.0.1:5432/{DATABASE}",
        "REDIS_URL": REDIS_URL,
        "ZBOR_DATA_DIR": str(data),
        "ZBOR_MEDIA_ROOT": str(data / "public" / "media"),
        "ZBOR_STATIC_ROOT": str(data / "public" / "static"),
        "ZBOR_PRIVATE_ROOT": str(data / "private"),
        "EMAIL_BACKEND": "zbor_bench_mail.MailToFiles",
        "PYTHONPATH": str(pylib),
        MAIL_DIR_VARIABLE: str(mail_dir),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--donations", type=int, default=200)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    started = time.monotonic()
    harness.need_tools()
    work = Path(tempfile.mkdtemp(prefix="zbor-cluster-"))
    work.chmod(0o755)
    mail_dir = work / "mail"
    mail_dir.mkdir()
    releases = work / "releases"
    releases.mkdir()
    commit, name = head_version()
    print(f"Zbor cluster check, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores; logs in {work}", flush=True)
    print("PostgreSQL + Redis, nginx (1 s cache) → 2 granian app servers (1 process each), 1 task worker", flush=True)
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    results = Results()
    procs = Processes(work)
    site = None
    try:
        print(f"\n0. Install: this checkout's commit {name}, then the cluster on {OLD_RELEASE} (v0.5.0)", flush=True)
        check_nginx_conf(results, work)
        check_install(results, work, releases)
        values = site_values(work, mail_dir)
        site = install_cluster(work, releases, OLD_RELEASE, values)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "ZBOR_", "DJANGO_"))},
            **values,
            "PYTHONPATH": f"{ROOT}:{values['PYTHONPATH']}",
        }
        site.zbor("load_demo")
        redis.Redis.from_url(REDIS_URL).flushdb()
        ports = [harness.free_port() for _ in range(3)]
        start_cluster(site, ports[:2])
        harness.nginx(procs, work, ports[2], ports[:2])
        worker = Worker(site)
        apps = [f"http://127.0.0.1:{port}" for port in ports[:2]]
        front = f"http://127.0.0.1:{ports[2]}"
        for url in (*apps, front):
            harness.wait_for(url + "/en/")
        print(
            f"   set up in {time.monotonic() - started:.0f} s; app servers {', '.join(apps)}, nginx {front}",
            flush=True,
        )

        print(f"\n4. Rolling upgrade {OLD_RELEASE} → {name} under load through nginx", flush=True)
        upgrade_under_load(results, site, env, work, front, apps, commit)

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
        if site is not None:
            site.stop_all()
    failed = [name for name, _m, ok in results.rows if not ok]
    if not failed:  # the logs stay; the two releases' virtualenvs (about 1 GB) go
        shutil.rmtree(releases, ignore_errors=True)
    print(
        f"\n{'PASS' if not failed else 'FAIL'}: {len(results.rows) - len(failed)} of {len(results.rows)} checks met "
        f"in {time.monotonic() - started:.0f} s." + (f" FAILED: {'; '.join(failed)}. Logs in {work}" if failed else "")
    )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
