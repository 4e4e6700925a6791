"""The sites of `make bench-cluster` (bench/cluster.py), installed as an operator would: with
deploy/install.sh into a temporary prefix, run by a stand-in for systemctl.

- ``check_install``: install.sh twice with SQLite and production settings (the second run
  changes nothing, the environment file is never touched), then the release answers /readyz
  through granian. Run as root (CI), the site's user is an unprivileged account (``nobody``),
  as in production: every file in the data folder is that user's and the databases are 0600.
- ``install_cluster``: install.sh of an older release (PostgreSQL: the role and database made
  by install.sh through ZBOR_PG_ADMIN_URL), whose app servers and worker are then started and
  restarted by FAKE_SYSTEMCTL, as deploy/upgrade.sh restarts them.
- ``check_nginx_conf``: deploy/nginx.conf passes `nginx -t` once its paths point here.

Both sites share one releases folder, so each release is built once per run (about 45 s each:
a virtualenv from pip's cache); install.sh and upgrade.sh find it built and only run
collectstatic for their own site.
"""

from __future__ import annotations

import base64
import grp
import hashlib
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench import harness
from bench.harness import PG, ROOT
from bench.run import Results

DEPLOY = ROOT / "deploy"

# `systemctl start|stop|restart UNIT` for the units described in $ZBOR_FAKE_UNITS: UNIT.run (the
# command, started in its own session from the release `current` points at, as systemd's
# WorkingDirectory= does), UNIT.signal (KillSignal=), UNIT.ready (ExecStartPost=: a command
# retried for up to a minute; the start fails and the unit is stopped if it never succeeds).
FAKE_SYSTEMCTL = r"""#!/usr/bin/env bash
set -euo pipefail
action=$1 unit=${2%.service} dir=$ZBOR_FAKE_UNITS
[ -f "$dir/$unit.run" ] || { echo "Unit $unit.service not found." >&2; exit 5; }
alive() { [ -d "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
stop() {
    [ -f "$dir/$unit.pid" ] || return 0
    local pid
    pid=$(cat "$dir/$unit.pid")
    kill -s "$(cat "$dir/$unit.signal")" -- "-$pid" 2>/dev/null || true
    for _ in $(seq 300); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then kill -s KILL -- "-$pid" 2>/dev/null || true; fi
    rm -f "$dir/$unit.pid"
}
start() {
    setsid "$dir/$unit.run" >>"$dir/$unit.log" 2>&1 </dev/null &
    echo $! >"$dir/$unit.pid"
    [ -f "$dir/$unit.ready" ] || return 0
    for _ in $(seq 300); do
        sh -c "$(cat "$dir/$unit.ready")" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    echo "$unit.service: not ready after a minute" >&2
    stop
    return 1
}
case $action in
    start) start ;;
    stop) stop ;;
    restart) stop; start ;;
    *) echo "fake systemctl: $action is not supported" >&2; exit 2 ;;
esac
"""


@dataclass
class Site:
    """One installed Zbor: its prefix, environment file and fake units."""

    root: Path
    env_file: Path

    @property
    def home(self) -> Path:
        return self.root / "opt"

    @property
    def current(self) -> Path:
        return self.home / "current"

    @property
    def units(self) -> Path:
        return self.root / "units"

    def script_env(self, **extra: str) -> dict[str, str]:
        """The environment install.sh and upgrade.sh run with: this user, this prefix, the fake
        systemctl first on PATH."""
        return {
            "PATH": f"{self.root / 'bin'}:{os.environ['PATH']}",
            "HOME": os.environ.get("HOME", "/root"),
            "LANG": "C.UTF-8",
            "ZBOR_USER": "root",
            "ZBOR_GROUP": "root",
            "ZBOR_HOME": str(self.home),
            "ZBOR_ENV_FILE": str(self.env_file),
            "ZBOR_BACKUP_DIR": str(self.root / "backups"),
            "ZBOR_SOURCE": str(ROOT),
            "ZBOR_INSTALL_UNITS": "no",
            "ZBOR_FAKE_UNITS": str(self.units),
            **extra,
        }

    def run(self, script: str, *args: str, log: Path, **extra: str) -> subprocess.CompletedProcess:
        with log.open("ab") as out:
            return subprocess.run(
                ["bash", str(DEPLOY / script), *args],
                env=self.script_env(**extra),
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=900,
            )

    def zbor(self, *args: str) -> str:
        """`zbor ARGS` in the current release with the site's environment file."""
        command = 'set -a; . "$0"; set +a; exec .venv/bin/zbor "$@"'
        result = subprocess.run(
            ["sh", "-c", command, str(self.env_file), *args],
            cwd=self.current.resolve(),
            env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")},
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise RuntimeError(f"zbor {' '.join(args)}: {result.stderr[-1500:]}")
        return result.stdout

    def add_unit(self, name: str, command: str, ready: str = "", kill_signal: str = "TERM") -> None:
        """A unit running ``command`` from the current release with the environment file."""
        self.units.mkdir(exist_ok=True)
        run = self.units / f"{name}.run"
        run.write_text(
            f'#!/bin/sh\ncd -P "{self.current}" && set -a && . "{self.env_file}" && set +a && exec {command}\n'
        )
        run.chmod(0o755)
        (self.units / f"{name}.signal").write_text(kill_signal)
        if ready:
            (self.units / f"{name}.ready").write_text(ready)

    def systemctl(self, action: str, unit: str) -> None:
        subprocess.run(["systemctl", action, unit], env=self.script_env(), check=True, timeout=120)

    def pid(self, unit: str) -> int:
        return int((self.units / f"{unit}.pid").read_text())

    def release_of(self, unit: str) -> Path:
        """The release folder the unit's process runs from (its working directory)."""
        return Path(os.path.realpath(f"/proc/{self.pid(unit)}/cwd"))

    def alive(self, unit: str) -> bool:
        path = self.units / f"{unit}.pid"
        return path.exists() and Path(f"/proc/{path.read_text().strip()}").exists()

    def stop_all(self) -> None:
        for path in self.units.glob("*.pid") if self.units.exists() else []:
            pid = int(path.read_text())
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(pid, sig)
                except ProcessLookupError:
                    break
                deadline = time.monotonic() + 15
                while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
                    time.sleep(0.1)
            path.unlink()


def new_site(work: Path, name: str, values: dict[str, str], releases: Path) -> Site:
    site = Site(work / name, work / name / "zbor.env")
    (site.root / "bin").mkdir(parents=True)
    systemctl = site.root / "bin" / "systemctl"
    systemctl.write_text(FAKE_SYSTEMCTL)
    systemctl.chmod(0o755)
    site.home.mkdir()
    (site.home / "releases").symlink_to(releases)
    site.env_file.write_text("".join(f'{key}="{value}"\n' for key, value in values.items()))
    site.env_file.chmod(0o640)
    return site


def granian_command(port: int) -> str:
    return (
        f'"$PWD/.venv/bin/granian" --interface wsgi --host 127.0.0.1 --port {port} --workers 1 '
        "--blocking-threads 16 --no-ws --no-access-log config.wsgi:application"
    )


def ready_probe(port: int) -> str:
    return f"curl --fail --silent --output /dev/null --max-time 5 http://127.0.0.1:{port}/readyz"


def head_version() -> tuple[str, str]:
    """The commit of this checkout and its release folder's name (the 12 first hex digits)."""
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    return commit.stdout.strip(), commit.stdout.strip()[:12]


SYSTEM_PYTHON = "/usr/bin/python3"


def unprivileged_user() -> dict[str, str]:
    """As root: install.sh's settings for the site user ``nobody``, with the system's Python
    (a Python under /root, pyenv's, is out of that user's reach). Else none: this user it is."""
    if os.geteuid() != 0 or not shutil.which("runuser") or not os.access(SYSTEM_PYTHON, os.X_OK):
        return {}
    try:
        pwd.getpwnam("nobody")
        grp.getgrnam("nogroup")
    except KeyError:
        return {}
    usable = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))"],
        capture_output=True,
    )
    if usable.returncode != 0:
        return {}
    return {"ZBOR_USER": "nobody", "ZBOR_GROUP": "nogroup", "ZBOR_PYTHON": SYSTEM_PYTHON}


def data_folder_faults(data: Path, user: str) -> list[str]:
    """What in the data folder is not the site user's, and which SQLite file others may read."""
    faults = [
        f"{path.relative_to(data.parent)} is {path.owner()}'s"
        for path in [data, *data.rglob("*")]
        if path.owner() != user
    ]
    for path in data.glob("*.sqlite3*"):
        if path.stat().st_mode & 0o077:
            faults.append(f"{path.name} is {path.stat().st_mode & 0o777:o}")
    return faults


def check_install(results: Results, work: Path, releases: Path) -> None:
    """install.sh twice into a prefix with SQLite and production settings, then /readyz."""
    data = work / "sqlite" / "srv"
    values = {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ZBOR_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "ALLOWED_HOSTS": "localhost",
        "ZBOR_PAYMENT_PROVIDERS": "bank",
        "ZBOR_DATA_DIR": str(data),
        "ZBOR_MEDIA_ROOT": str(data / "public" / "media"),
        "ZBOR_STATIC_ROOT": str(data / "public" / "static"),
        "ZBOR_PRIVATE_ROOT": str(data / "private"),
    }
    site = new_site(work, "sqlite", values, releases)
    as_user = unprivileged_user()
    user = as_user.get("ZBOR_USER", pwd.getpwuid(os.geteuid()).pw_name)
    if as_user:
        shutil.chown(site.env_file, group=as_user["ZBOR_GROUP"])  # root:zbor 0640, as in production
    before = site.env_file.read_bytes(), site.env_file.stat().st_mtime_ns
    log = work / "install-sqlite.log"
    timings = []
    for _ in range(2):
        started = time.monotonic()
        done = site.run("install.sh", log=log, **as_user)
        timings.append(time.monotonic() - started)
        if done.returncode != 0:
            results.check("deploy/install.sh (SQLite)", f"exit {done.returncode}; see {log}", False)
            return
    second = log.read_text().split("==> folders:")[-1]
    unchanged = "is already built" in second and "No migrations to apply." in second
    kept = (site.env_file.read_bytes(), site.env_file.stat().st_mtime_ns) == before
    faults = data_folder_faults(data, user)
    port = harness.free_port()
    site.add_unit("zbor-sqlite", granian_command(port), ready_probe(port))
    started = time.monotonic()
    site.systemctl("start", "zbor-sqlite")
    body = harness.fetch(f"http://127.0.0.1:{port}/readyz").decode().strip()
    serving = time.monotonic() - started
    site.stop_all()
    results.check(
        "deploy/install.sh twice into a prefix (SQLite, production settings), then granian answers /readyz",
        f"{timings[0]:.0f} s, then {timings[1]:.1f} s changing nothing (release already built, no migration, "
        f"environment file {'untouched' if kept else 'CHANGED'}); run by {pwd.getpwuid(os.geteuid()).pw_name} "
        f"for the site user {user}: "
        + ("; ".join(faults[:5]) if faults else "the data folder all its, databases 0600")
        + f"; /readyz {body!r} {serving:.1f} s after the start",
        unchanged and kept and not faults and body == "ready",
    )


def install_cluster(work: Path, releases: Path, version: str, values: dict[str, str]) -> Site:
    """install.sh of ``version`` with PostgreSQL: its role and database made by install.sh."""
    site = new_site(work, "cluster", values, releases)
    subprocess.run(
        ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force", "zbor_cluster"], check=True
    )
    log = work / "install-cluster.log"
    done = site.run("install.sh", version, log=log, ZBOR_PG_ADMIN_URL=f"{PG}/postgres")
    if done.returncode != 0:
        raise RuntimeError(f"deploy/install.sh {version} failed: see {log}")
    return site


def check_nginx_conf(results: Results, work: Path) -> None:
    """deploy/nginx.conf, its paths and certificate pointed at this run's folder, passes nginx -t."""
    folder = work / "nginx-t"
    folder.mkdir()
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
        ]
        + ["-subj", "/CN=fund.example", "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
        check=True,
        capture_output=True,
    )
    text = (DEPLOY / "nginx.conf").read_text()
    for production, here in (
        ("/etc/letsencrypt/live/fund.example/fullchain.pem", folder / "cert.pem"),
        ("/etc/letsencrypt/live/fund.example/privkey.pem", folder / "key.pem"),
        ("/var/cache/nginx-zbor", folder / "cache"),
        ("/var/log/nginx", folder),
        ("/srv/zbor/public", folder),
        ("/var/www/acme", folder),
    ):
        text = text.replace(production, str(here))
    (folder / "zbor.conf").write_text(text)
    main = folder / "nginx.conf"
    main.write_text(
        f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\nevents {{}}\n"
        f"http {{\n  include /etc/nginx/mime.types;\n  include {folder}/zbor.conf;\n}}\n"
    )
    out = subprocess.run(["nginx", "-t", "-c", str(main), "-p", str(folder)], capture_output=True, text=True)
    digest = hashlib.sha256((DEPLOY / "nginx.conf").read_bytes()).hexdigest()[:12]
    results.check(
        "deploy/nginx.conf passes nginx -t (its paths and certificate pointed here)",
        f"sha256 {digest}: " + (out.stderr.strip().splitlines() or ["no output"])[-1][:200],
        out.returncode == 0,
    )
