"""deploy/upgrade.sh's decisions, on two made-up releases (no virtualenv: a `zbor` that records
its calls) and a systemctl that records restarts and makes a unit ready or not: the plan
refused when it contracts, the order of restarts, the roll-back when an app server does not
become ready. The real upgrade, under load, runs in `make bench-cluster`."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UPGRADE = ROOT / "deploy" / "upgrade.sh"

pytestmark = pytest.mark.skipif(
    not (shutil.which("git") and shutil.which("curl")), reason="upgrade.sh needs git and curl"
)

FAKE_ZBOR = """#!/bin/sh
echo "$(basename "$(pwd -P)"): zbor $*" >>"$ZBOR_TEST_LOG"
[ "$*" = "migrate --plan" ] && cat plan.txt
exit 0
"""

# restart UNIT: ready (its file:// URL exists) unless the release `current` points at has a
# file named broken-UNIT.
FAKE_SYSTEMCTL = """#!/bin/sh
release=$(basename "$(readlink -f "$ZBOR_HOME/current")")
echo "$release: systemctl $*" >>"$ZBOR_TEST_LOG"
if [ -e "$ZBOR_HOME/current/broken-$2" ]; then rm -f "$READY/$2"; else touch "$READY/$2"; fi
"""


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    return subprocess.run(["git", "-C", str(repo), *args], env=env, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def site(tmp_path):
    """Releases OLD (running) and NEW, built already, and the environment to upgrade with."""
    source = tmp_path / "source"
    source.mkdir()
    git(source, "init", "-q")
    names = []
    for number in (1, 2):
        (source / "file").write_text(str(number))
        git(source, "add", "file")
        git(source, "commit", "-qm", f"release {number}")
        names.append(git(source, "rev-parse", "HEAD").strip()[:12])
    home, ready, log = tmp_path / "opt", tmp_path / "ready", tmp_path / "log"
    ready.mkdir()
    env_file = tmp_path / "zbor.env"
    env_file.write_text(f"ZBOR_STATIC_ROOT={tmp_path / 'static'}\nZBOR_TEST_LOG={log}\n")
    for name in names:
        release = home / "releases" / name
        (release / ".venv" / "bin").mkdir(parents=True)
        (release / ".venv" / "bin" / "zbor").write_text(FAKE_ZBOR)
        (release / ".venv" / "bin" / "zbor").chmod(0o755)
        (release / ".complete").write_text("built\n")
        (release / ".collected").write_text(f"{tmp_path / 'static'}\n")
        (release / "plan.txt").write_text("Planned operations:\n  No planned migration operations.\n")
    (home / "current").symlink_to(home / "releases" / names[0])
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "systemctl").write_text(FAKE_SYSTEMCTL)
    (tmp_path / "bin" / "systemctl").chmod(0o755)
    user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    env = {
        "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}",
        "ZBOR_USER": user,
        "ZBOR_HOME": str(home),
        "ZBOR_ENV_FILE": str(env_file),
        "ZBOR_SOURCE": str(source),
        "ZBOR_WEB_UNITS": "web1 web2",
        "ZBOR_READY_URLS": f"file://{ready}/web1 file://{ready}/web2",
        "ZBOR_WORKER_UNITS": "worker",
        "ZBOR_READY_SECONDS": "1",
        "ZBOR_RESTART_PAUSE": "0",
        "READY": str(ready),
        "ZBOR_TEST_LOG": str(log),
    }
    return {"env": env, "old": names[0], "new": names[1], "home": home, "log": log}


def upgrade(site, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(UPGRADE), *args, site["new"]], env=site["env"], capture_output=True, text=True, timeout=60
    )


def calls(site) -> list[str]:
    return site["log"].read_text().splitlines() if site["log"].exists() else []


def running(site) -> str:
    return (site["home"] / "current").resolve().name


def test_an_upgrade_migrates_switches_then_restarts_one_at_a_time(site):
    result = upgrade(site)
    assert result.returncode == 0, result.stderr
    new = site["new"]
    assert calls(site) == [
        f"{new}: zbor migrate --plan",
        f"{new}: zbor migrate --no-input",
        f"{new}: systemctl restart web1",
        f"{new}: systemctl restart web2",
        f"{new}: systemctl restart worker",
        f"{new}: zbor migrate --no-input",
        f"{new}: zbor migrate --check",
    ]
    assert running(site) == new
    assert "No planned migration operations." in result.stdout


def test_a_plan_that_removes_is_refused_unless_allowed(site):
    plan = site["home"] / "releases" / site["new"] / "plan.txt"
    plan.write_text("Planned operations:\naccounts.0007_x\n    Remove field secret from user\n")
    result = upgrade(site)
    assert result.returncode == 1
    assert "Remove field secret from user" in result.stderr
    assert "--allow-contract" in result.stderr
    assert calls(site) == [f"{site['new']}: zbor migrate --plan"]
    assert running(site) == site["old"]

    site["log"].unlink()
    result = upgrade(site, "--allow-contract")
    assert result.returncode == 0, result.stderr
    assert running(site) == site["new"]


def test_an_app_server_that_does_not_become_ready_rolls_every_moved_one_back(site):
    (site["home"] / "releases" / site["new"] / "broken-web2").touch()
    result = upgrade(site)
    assert result.returncode == 1
    old, new = site["old"], site["new"]
    assert calls(site) == [
        f"{new}: zbor migrate --plan",
        f"{new}: zbor migrate --no-input",
        f"{new}: systemctl restart web1",
        f"{new}: systemctl restart web2",
        # back to the old release, the failing server first; never a migration backwards
        f"{old}: systemctl restart web2",
        f"{old}: systemctl restart web1",
    ]
    assert running(site) == old
    assert f"web2 did not answer 200 at file://{site['env']['READY']}/web2" in result.stderr
    assert "web1 runs " + old + " again" in result.stderr
    assert "rolled back" in result.stderr


def test_the_running_release_is_left_alone(site):
    site["env"]["ZBOR_HOME"] = str(site["home"])
    (site["home"] / "current").unlink()
    (site["home"] / "current").symlink_to(site["home"] / "releases" / site["new"])
    result = upgrade(site)
    assert result.returncode == 0
    assert "is running already: nothing to do" in result.stdout
    assert calls(site) == []


def test_without_ready_urls_for_its_app_servers_nothing_is_changed(site):
    del site["env"]["ZBOR_READY_URLS"]
    result = upgrade(site)
    assert result.returncode == 1
    assert "set ZBOR_READY_URLS to the /readyz address of each unit in ZBOR_WEB_UNITS (web1 web2)" in result.stderr
    assert calls(site) == []
    assert running(site) == site["old"]
    # A machine with task workers only needs none.
    site["env"]["ZBOR_WEB_UNITS"] = ""
    assert upgrade(site).returncode == 0
    assert f"{site['new']}: systemctl restart worker" in calls(site)


def test_an_interrupted_upgrade_run_again_finishes_its_restarts(site):
    """Cut off after the switch (say, SSH dropped): `current` names the new release, no server
    was restarted. The same command again restarts them all and migrates once more."""
    (site["home"] / "releases" / site["new"] / "broken-web1").touch()
    (site["home"] / "releases" / site["new"] / "plan.txt").write_text(
        "Planned operations:\naccounts.0007_x\n    Remove field secret from user\n"
    )
    # The first run stops where a dropped session would: after the switch, before any restart
    # finishes (the first restart fails and a contracting upgrade is never rolled back).
    first = upgrade(site, "--allow-contract")
    assert first.returncode == 1
    assert running(site) == site["new"]
    (site["home"] / "releases" / site["new"] / "broken-web1").unlink()
    plan = "Planned operations:\n  No planned migration operations.\n"
    (site["home"] / "releases" / site["new"] / "plan.txt").write_text(plan)
    site["log"].unlink()

    again = upgrade(site)
    assert again.returncode == 0, again.stderr
    new = site["new"]
    assert f"finishing the upgrade from {site['old']} to {new}" in again.stdout
    assert calls(site) == [
        f"{new}: zbor migrate --plan",
        f"{new}: zbor migrate --no-input",
        f"{new}: systemctl restart web1",
        f"{new}: systemctl restart web2",
        f"{new}: systemctl restart worker",
        f"{new}: zbor migrate --no-input",
        f"{new}: zbor migrate --check",
    ]
    assert not (site["home"] / "upgrading").exists()
    # Done: a third run has nothing to do.
    assert "is running already: nothing to do" in upgrade(site).stdout


def test_after_a_contracting_migration_a_failed_restart_is_not_rolled_back(site):
    (site["home"] / "releases" / site["new"] / "plan.txt").write_text(
        "Planned operations:\naccounts.0007_x\n    Remove field secret from user\n"
    )
    (site["home"] / "releases" / site["new"] / "broken-web2").touch()
    result = upgrade(site, "--allow-contract")
    assert result.returncode == 1
    new = site["new"]
    assert calls(site) == [
        f"{new}: zbor migrate --plan",
        f"{new}: zbor migrate --no-input",
        f"{new}: systemctl restart web1",
        f"{new}: systemctl restart web2",
    ]
    assert running(site) == new
    assert "not rolling back: with --allow-contract the database no longer has what" in result.stderr
    # Until it is finished, no other upgrade starts (nor one back to the old release).
    assert (site["home"] / "upgrading").read_text().split()[2] == "yes"
    back = subprocess.run(
        ["bash", str(UPGRADE), site["old"]], env=site["env"], capture_output=True, text=True, timeout=60
    )
    assert back.returncode == 1
    assert f"the upgrade from {site['old']} to {new} did not finish: run deploy/upgrade.sh {new} first" in back.stderr
    assert running(site) == new
