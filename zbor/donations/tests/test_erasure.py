"""`zbor erase_donor` leaves the erased data in no file of the database.

An UPDATE that clears an email leaves the old bytes behind in two places on SQLite: in the
page's free space (unless ``secure_delete`` is on) and in the write-ahead log, whose old frames
stay until a checkpoint and, after one, until overwritten. These tests run the embedded default
as it runs in production: a SQLite file (WAL mode, the settings' PRAGMAs) in a data directory
of its own, written and erased by separate `zbor` processes, and then read every byte of every
file in that directory (the database, its ``-wal`` and ``-shm``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
EMAIL = "erase.me.quokka+z31@example.org"
NAME = "Quokkarina Erasmova"
MESSAGE = "Hold on, Ales: from Quokka street xq9"
# Another donor, whose data must stay.
KEPT = "stays.pelican+k4@example.org"

CREATE = f"""
import django
django.setup()
from tests import factories
from zbor.donations.models import Donation, DonationStatus
from django.utils import timezone
import uuid
campaign = factories.campaign(slug="erasure")
for n in range(40):  # one transaction each: many WAL frames carry the email
    Donation.objects.create(
        campaign=campaign, amount=1000 + n, currency="EUR", provider="demo", idempotency_key=uuid.uuid4().hex,
        status=DonationStatus.SUCCEEDED, succeeded_at=timezone.now(), email={EMAIL!r} if n % 2 else {KEPT!r},
        public_name={NAME!r} if n % 2 else "", message={MESSAGE!r} if n % 2 else "",
    )
"""


def zbor(data_dir: Path, *args: str, code: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings.test", "ZBOR_DATA_DIR": str(data_dir)}
    command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "zbor", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def every_byte(data_dir: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(data_dir.iterdir()) if path.is_file()}


def found(files: dict[str, bytes], needle: str) -> list[str]:
    return [name for name, data in files.items() if needle.encode() in data]


SERVER = """
import sys, django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("SELECT count(*) FROM donations_donation")
    cursor.fetchone()
print("ready", flush=True)
for line in sys.stdin:  # "read": hold a read transaction open (an old snapshot); "done": end it
    with connection.cursor() as cursor:
        if line.strip() == "read":
            cursor.execute("BEGIN")
            cursor.execute("SELECT count(*) FROM donations_donation")
            cursor.fetchone()
        else:
            cursor.execute("COMMIT")
    print("ok", flush=True)
"""


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    """An empty migrated database, made once for the module (each test works on a copy)."""
    path = tmp_path_factory.mktemp("migrated")
    result = zbor(path, "migrate", "--no-input", "-v0")
    assert result.returncode == 0, result.stderr[-3000:]
    return path


@pytest.fixture
def data_dir(tmp_path, migrated):
    """A migrated database with the donations in it, and an app server's connection held open
    the whole time (CONN_MAX_AGE), as on a live site: SQLite removes the WAL when the LAST
    connection closes, which on a live server never happens."""
    shutil.copytree(migrated, tmp_path, dirs_exist_ok=True)  # closed: no WAL, the file is whole
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings.test", "ZBOR_DATA_DIR": str(tmp_path)}
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER], cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout.readline().strip() == "ready"
        result = zbor(tmp_path, code=CREATE)
        assert result.returncode == 0, result.stderr[-3000:]
        yield tmp_path, server
    finally:
        server.stdin.close()
        server.wait(timeout=60)


def tell(server, what: str) -> None:
    server.stdin.write(what + "\n")
    server.stdin.flush()
    assert server.stdout.readline().strip() == "ok"


def test_after_erase_donor_no_file_of_the_database_holds_the_erased_data(data_dir):
    data_dir, _server = data_dir
    before = every_byte(data_dir)
    assert "zbor.sqlite3-wal" in before and found(before, EMAIL)  # the test can see it: it is there

    result = zbor(data_dir, "erase_donor", EMAIL.upper())
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Erased the personal data of 20 donation(s)" in result.stdout

    after = every_byte(data_dir)
    assert set(after) >= {"zbor.sqlite3"}
    for needle in (EMAIL, EMAIL.split("@")[0], NAME, "Quokkarina", MESSAGE, "Quokka street"):
        assert found(after, needle) == [], needle
    assert after.get("zbor.sqlite3-wal", b"") == b""  # checkpointed and truncated
    assert found(after, KEPT) == ["zbor.sqlite3"]  # the other donor's receipt email is still there


def test_a_reader_that_holds_the_log_makes_the_command_say_so_and_a_second_run_finishes(data_dir):
    data_dir, server = data_dir
    tell(server, "read")  # a request still reading the snapshot from before the erasure
    held = zbor(data_dir, "erase_donor", EMAIL, "--wait", "0.5")
    assert held.returncode != 0 and "Run the same command again" in held.stderr, held.stderr[-2000:]
    assert "Erased the personal data of 20 donation(s)" in held.stdout  # the tables are erased already
    tell(server, "done")
    again = zbor(data_dir, "erase_donor", EMAIL)
    assert again.returncode == 0 and "of 0 donation(s)" in again.stdout, again.stderr[-2000:]
    after = every_byte(data_dir)
    assert found(after, EMAIL) == [] and found(after, NAME) == []


def test_every_connection_zeroes_what_it_deletes():
    """secure_delete comes from the settings' init_command, for every connection (the server's
    too, not only the command's): a row deleted by anyone leaves zeros."""
    code = (
        "import django; django.setup()\n"
        "from django.db import connection\n"
        "with connection.cursor() as c:\n"
        "    c.execute('PRAGMA secure_delete'); print(c.fetchone()[0])\n"
        "    c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])\n"
    )
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        result = zbor(Path(tmp), code=code)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["1", "wal"]
