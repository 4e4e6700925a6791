"""The restore drill of docs/deploy.md ("Restore drill"), step by step, on SQLite and PostgreSQL.

A small site (a campaign with donations and donors' emails, its ledger, a beneficiary's encrypted
identity and document, a cover image) is backed up with `zbor backup`; the archive must hold none
of it in clear, nor a key. The scratch server then follows the drill: its env file is
production's with the docs' own block of changes (read from docs/deploy.md), "install" runs the
first migrate, step 1 empties the database again (drops and creates the PostgreSQL database,
owned by a role with a password reached over TCP; or removes the SQLite files), step 2 runs
`zbor restore $A --identity - < $K` through the docs' helper (the env file sourced by `sh`, the
identity on standard input), then `zbor reconcile`, and the decrypted identity, the document's
bytes and the public totals must be what they were. The SHA-256 `zbor restore` prints must be
the one `zbor backup` printed.

Where this differs from the drill on a real server, and why:
- No `runuser -u zbor`: CI has no `zbor` user and may not run as root. The helper's `sh -c`
  line is otherwise the same; the modes `zbor restore` gives the SQLite files are checked.
- No `deploy/install.sh`: it builds a release and its virtualenv as root (make bench-cluster
  tests it). What the drill depends on is reproduced: the role with a password and its database
  (PostgreSQL), and the first `zbor migrate` through the helper.
- "Production's" env file is deploy/zbor.env.example with its CHANGE-ME values filled in (a
  temporary folder, the test's database, a bank account), on the same machine as the scratch
  server but in other folders and another database.
- The site is seeded with development settings and tasks run at once (seeding is not part of
  the drill); `zbor backup` and everything after run with production settings.
- PostgreSQL is administered through ZBOR_TEST_DATABASE_URL's role with dropdb/createdb
  instead of `sudo -u postgres`.
- The archive is not copied through rclone, the units are not stopped or started, and the site's
  totals are read through Django's test client with the scratch env (no granian, no curl).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.drill_database import Database

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "drill-secret-key-" + "s" * 40
NAME = "Aliaksandra Drill-Zhukouskaya"
EMAIL = "drill.donor@example.org"
DOCUMENT_LABEL = "Passport scan of the drill beneficiary"

SEED = textwrap.dedent(
    """
    import django
    django.setup()
    from io import BytesIO
    from django.core.files.base import ContentFile
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from PIL import Image
    from pypdf import PdfWriter
    from tests import factories
    from zbor.campaigns.private import add_document, write_private
    from zbor.donations.models import Donation

    call_command("migrate", verbosity=0)
    editor = factories.role_user("editor")
    campaign = factories.campaign(slug="drill", donations=(2500, 1000, 700))
    Donation.objects.filter(campaign=campaign).update(email="{email}")
    write_private(campaign.beneficiary, by=editor, real_name="{name}", contacts="{name}, +375 29 000")
    writer = PdfWriter(); writer.add_blank_page(width=100, height=100)
    out = BytesIO(); writer.write(out)
    add_document(campaign.beneficiary, SimpleUploadedFile("p.pdf", out.getvalue()), by=editor, label="{label}")
    picture = BytesIO(); Image.new("RGB", (40, 30), (200, 30, 30)).save(picture, "JPEG")
    campaign.cover.save("cover.jpg", ContentFile(picture.getvalue()), save=True)
    print("seeded")
    """
).format(email=EMAIL, name=NAME, label=DOCUMENT_LABEL)

# What the restored site must show: the same totals, identity and document bytes.
STATE = textwrap.dedent(
    """
    import django, hashlib, json
    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from zbor import private_files
    from zbor.campaigns.models import Beneficiary, BeneficiaryDocument
    from zbor.crypto import decrypt_text
    from zbor.donations.models import Donation

    b = Beneficiary.objects.exclude(real_name_secret="").get()
    doc = BeneficiaryDocument.objects.get()
    print(json.dumps({
        "totals": Client().get("/api/v1/totals", HTTP_HOST="localhost", secure=True).json(),
        "real_name": decrypt_text(b.real_name_secret),
        "document": hashlib.sha256(private_files.load(doc.stored_name)).hexdigest(),
        "emails": sorted(Donation.objects.values_list("email", flat=True)),
        "covers": sorted(p.name for p in (__import__("django.conf").conf.settings.MEDIA_ROOT / "covers").iterdir()),
    }))
    """
)


DOCS = ROOT / "docs" / "deploy.md"
EXAMPLE = ROOT / "deploy" / "zbor.env.example"
#: The docs' helper (Install), without `runuser -u zbor --` (see the head of this file).
HELPER = 'set -a; . "$ZBOR_ENV_FILE"; set +a; cd "$0" && exec {zbor} "$@"'


def _drill_section() -> str:
    text = DOCS.read_text()
    return text[text.index("## Restore drill\n") : text.index("## Single machine (SQLite)\n")]


def _drill_env_block() -> list[tuple[str, str]]:
    """The docs' changes to production's env file: (name, value) in their order."""
    block = re.search(r"```sh\n(.*?)```", _drill_section(), re.S)
    assert block, "the Restore drill section lost its env block"
    pairs = []
    for line in block.group(1).splitlines():
        line = line.split("  #", 1)[0].strip()
        if line and not line.startswith("#"):
            name, value = line.split("=", 1)
            pairs.append((name, value))
    return pairs


def _env_file(path: Path, data_dir: Path, settings: dict[str, str], changes: list[tuple[str, str]] = ()) -> Path:
    """deploy/zbor.env.example, production's values filled in, then ``changes`` (the drill's)."""
    lines = [EXAMPLE.read_text(), "# production's values"]
    lines += [f"{name}={value}" for name, value in settings.items()]
    lines += ["# the drill's changes", *(f"{name}={value}" for name, value in changes)]
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def _production_values(data_dir: Path, keys: str, database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "SECRET_KEY": SECRET_KEY,
        "ZBOR_ENCRYPTION_KEYS": keys,
        "ALLOWED_HOSTS": "localhost",
        "DATABASE_URL": database_url,
        "DATABASE_REPLICA_URL": "",
        "REDIS_URL": "",
        "ZBOR_DATA_DIR": str(data_dir),
        "ZBOR_MEDIA_ROOT": str(data_dir / "public" / "media"),
        "ZBOR_STATIC_ROOT": str(data_dir / "public" / "static"),
        "ZBOR_PRIVATE_ROOT": str(data_dir / "private"),
        "ZBOR_BACKUP_DIR": str(tmp_path / "backups"),
        "ZBOR_BACKUP_RECIPIENTS": str(tmp_path / "backup-recipients.txt"),
        "ZBOR_ALERT_EMAILS": "",
        "ZBOR_ADMIN_PATH": "drill-admin",
        "ZBOR_BANK_IBAN": "PL61 1090 1014 0000 0712 1981 2874",
        "ZBOR_BANK_BIC": "WBKPPLPP",
        "EMAIL_HOST": "localhost",
        "EMAIL_HOST_USER": "",
        "EMAIL_HOST_PASSWORD": "",
    }


def _clean_environ() -> dict[str, str]:
    """This process's environment without anything the env file should decide."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZBOR_", "DATABASE_", "REDIS_", "DJANGO_"))}
    env.pop("SECRET_KEY", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


def _helper(env_file: Path, *args: str, stdin: Path | None = None, program: str = "") -> subprocess.CompletedProcess:
    """The docs' `zbor ARGS` helper: sh sources the env file, then runs zbor in the release."""
    local = ROOT / ".venv" / "bin" / "zbor"
    zbor = program or (str(local) if local.exists() else f'"{sys.executable}" -m zbor')
    env = {**_clean_environ(), "ZBOR_ENV_FILE": str(env_file), "PYTHONPATH": str(ROOT)}
    with open(stdin or os.devnull, "rb") as given:
        result = subprocess.run(  # noqa: S603 - a fixed sh line, the test's own arguments
            ["sh", "-c", HELPER.format(zbor=zbor), str(ROOT), *args],
            env=env,
            stdin=given,
            capture_output=True,
            timeout=300,
            check=False,
        )
    return subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode(), result.stderr.decode())


def _python(env_file: Path, script: str) -> subprocess.CompletedProcess:
    return _helper(env_file, "-c", script, program=f'"{sys.executable}"')


def _keys(tmp_path: Path) -> tuple[Path, Path]:
    """An age identity (the keeper's, offline) and its recipient (on the server)."""
    from pyrage import x25519

    identity = x25519.Identity.generate()
    identity_file, recipients = tmp_path / "keeper-identity.txt", tmp_path / "backup-recipients.txt"
    identity_file.write_text(f"# a keeper's identity\n{identity}\n")
    recipients.write_text(f"# keepers\n{identity.to_public()}\n")
    return identity_file, recipients


def _seed(env_file: Path) -> None:
    """Production's data, made with development settings (not part of the drill)."""
    env = {
        **_clean_environ(),
        "ZBOR_ENV_FILE": str(env_file),
        "PYTHONPATH": str(ROOT),
    }
    script = 'set -a; . "$ZBOR_ENV_FILE"; set +a; DJANGO_SETTINGS_MODULE=config.settings.dev ZBOR_TASKS_IMMEDIATE=1 exec "$0" -c "$1"'
    result = subprocess.run(  # noqa: S603
        ["sh", "-c", script, sys.executable, SEED], cwd=ROOT, env=env, capture_output=True, timeout=300, check=False
    )
    assert result.returncode == 0 and b"seeded" in result.stdout, result.stderr[-3000:]


def _sha256_line(output: str) -> str:
    (line,) = [line for line in output.splitlines() if line.startswith("sha256: ")]
    return line.split()[1]


def drill(tmp_path: Path, source_url: str = "", admin_url: str = "") -> None:
    keys = Fernet.generate_key().decode()
    identity, recipients = _keys(tmp_path)
    production_dir = tmp_path / "production"
    production = _env_file(
        tmp_path / "production.env", production_dir, _production_values(production_dir, keys, source_url, tmp_path)
    )
    _seed(production)
    before = _python(production, STATE)
    assert before.returncode == 0, before.stderr[-3000:]

    # On production: the nightly backup, with production settings; its SHA-256 goes to the journal.
    backup = _helper(production, "backup")
    assert backup.returncode == 0, backup.stderr
    (archive,) = (tmp_path / "backups").glob("zbor-*.tar.age")
    assert archive.stat().st_mode & 0o777 == 0o600
    data = archive.read_bytes()
    assert _sha256_line(backup.stdout) == hashlib.sha256(data).hexdigest()
    secrets = [NAME, EMAIL, DOCUMENT_LABEL, "+375 29 000", SECRET_KEY, keys, str(identity.read_text().split()[-1])]
    assert [s for s in secrets if s.encode() in data or s.encode("utf-16-le") in data] == []
    # Headers long enough never to turn up by chance in the ciphertext.
    assert b"%PDF-1." not in data and b"JFIF\x00\x01" not in data and b"SQLite format 3" not in data

    # The scratch server: production's env file with the docs' changes, then "install".
    scratch_dir = tmp_path / "scratch"
    database = Database(scratch_dir, admin_url)
    try:
        url = database.install()
        values = {
            "NEW-SECRET-KEY": "another-" + SECRET_KEY,
            "PRODUCTIONS-KEYS": keys,
            "/srv/zbor": str(scratch_dir),
            "postgres://zbor:DRILL-PASSWORD@localhost:5432/zbor_drill": url,
        }
        changes = [(name, values.get(value, value)) for name, value in _drill_env_block()]
        assert ("DATABASE_URL", url) in changes and ("ZBOR_DATA_DIR", str(scratch_dir)) in changes
        scratch = _env_file(
            tmp_path / "scratch.env", scratch_dir, _production_values(scratch_dir, keys, "", tmp_path), changes
        )
        for folder in ("private", "public/media"):
            (scratch_dir / folder).mkdir(parents=True)
        migrated = _helper(scratch, "migrate", "--no-input")  # install.sh's first migrate
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        # Without step 1, the restore is refused: the database has the tables migrate made.
        refused = _helper(scratch, "restore", str(archive), "--identity", "-", stdin=identity)
        assert refused.returncode == 1 and "the database is not empty" in refused.stderr, refused.stderr

        database.empty()  # step 1
        assert not [p for folder in ("private", "public/media") for p in (scratch_dir / folder).iterdir()]
        restored = _helper(scratch, "restore", str(archive), "--identity", "-", stdin=identity)  # step 2
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert _sha256_line(restored.stdout) == _sha256_line(backup.stdout)
        assert "reconcile: clean: no differences" in restored.stdout
        assert "private data: campaigns.beneficiary.real_name_secret of one record opens" in restored.stdout
        assert "private files: one of campaigns.beneficiarydocument opens" in restored.stdout
        assert "WARNING" not in restored.stdout
        assert restored.stdout.strip().splitlines()[-1] == "restore complete: all checks passed"
        if not admin_url:
            modes = {p.name: p.stat().st_mode & 0o777 for p in database.sqlite_files if p.exists()}
            assert modes.get("zbor.sqlite3") == 0o600 and set(modes.values()) == {0o600}, modes
        assert (scratch_dir / "tasks.sqlite3").stat().st_mode & 0o777 == 0o600  # the queue, without Redis
        reconciled = _helper(scratch, "reconcile")  # step 3
        assert reconciled.returncode == 0 and "clean: no differences" in reconciled.stdout, reconciled.stdout
        if admin_url:
            _assert_append_only_triggers(url)
        after = _python(scratch, STATE)  # step 4
        assert after.returncode == 0, after.stderr[-3000:]
        assert json.loads(after.stdout) == json.loads(before.stdout)
        assert json.loads(after.stdout)["real_name"] == NAME

        # A second restore into the now restored copy is refused, and changes nothing.
        again = _helper(scratch, "restore", str(archive), "--identity", "-", stdin=identity)
        assert again.returncode == 1 and "the database is not empty" in again.stderr
    finally:
        database.drop()


def test_the_docs_drill_runs_the_restore_this_test_runs():
    section = _drill_section()
    assert "time zbor restore $A --identity - < $K" in section
    assert (
        "sudo -u postgres dropdb --if-exists --force zbor_drill && sudo -u postgres createdb -O zbor zbor_drill"
        in section
    )
    assert "rm -f /srv/zbor/zbor.sqlite3 /srv/zbor/zbor.sqlite3-wal /srv/zbor/zbor.sqlite3-shm" in section


def _assert_append_only_triggers(url: str) -> None:
    """The ledger's and audit log's guards came back with the dump: one pair per append-only table."""
    import psycopg

    with psycopg.connect(url) as db:
        names = [
            row[0]
            for row in db.execute(
                "SELECT tgname FROM pg_trigger WHERE tgname LIKE '%append_only' OR tgname LIKE '%no_truncate'"
            )
        ]
    guarded = {n.rsplit("_append_only", 1)[0] for n in names if n.endswith("_append_only")}
    assert guarded and guarded == {n.rsplit("_no_truncate", 1)[0] for n in names if n.endswith("_no_truncate")}


def test_restore_drill_on_sqlite(tmp_path):
    drill(tmp_path)


def test_restore_drill_on_postgresql(tmp_path):
    url = os.environ.get("ZBOR_TEST_DATABASE_URL") or (
        os.environ.get("DATABASE_URL", "") if os.environ.get("DATABASE_URL", "").startswith("postgres") else ""
    )
    if not url:
        pytest.skip("needs PostgreSQL: set ZBOR_TEST_DATABASE_URL")
    import psycopg

    name = f"zbor_backup_prod_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = url.rsplit("/", 1)[0]
    try:
        drill(tmp_path, f"{base}/{name}", admin_url=url)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
