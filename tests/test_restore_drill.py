"""The restore drill of docs/deploy.md ("Restore drill"), step by step, on SQLite and PostgreSQL.

A small site (a campaign with donations and donors' emails, its ledger, a beneficiary's encrypted
identity and document, a cover image) is backed up with `zbor backup`; the archive must hold none
of it in clear, nor a key. `zbor restore` then loads it into a fresh database and empty folders in
another process, as on the scratch server, and `zbor reconcile`, the decrypted identity, the
document's bytes and the public totals must be what they were.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

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
        "totals": Client().get("/api/v1/totals", HTTP_HOST="localhost").json(),
        "real_name": decrypt_text(b.real_name_secret),
        "document": hashlib.sha256(private_files.load(doc.stored_name)).hexdigest(),
        "emails": sorted(Donation.objects.values_list("email", flat=True)),
        "covers": sorted(p.name for p in (__import__("django.conf").conf.settings.MEDIA_ROOT / "covers").iterdir()),
    }))
    """
)


def _env(data_dir: Path, keys: str, database_url: str = "") -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "SECRET_KEY": SECRET_KEY,
        "ZBOR_ENCRYPTION_KEYS": keys,
        "ZBOR_DATA_DIR": str(data_dir),
        "ZBOR_PRIVATE_ROOT": str(data_dir / "private"),
        "ZBOR_MEDIA_ROOT": str(data_dir / "media"),
        "ZBOR_TASKS_IMMEDIATE": "1",
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
    }
    env.pop("DATABASE_REPLICA_URL", None)
    env.pop("REDIS_URL", None)
    return env


def _run(env: dict, *args: str, stdin: Path | None = None) -> subprocess.CompletedProcess:
    with open(stdin or os.devnull, "rb") as given:
        return subprocess.run(
            [sys.executable, *args], cwd=ROOT, env=env, stdin=given, capture_output=True, timeout=300, check=False
        )


def _zbor(env: dict, *args: str, stdin: Path | None = None) -> subprocess.CompletedProcess:
    result = _run(env, "-m", "zbor", *args, stdin=stdin)
    return subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode(), result.stderr.decode())


def _keys(tmp_path: Path) -> tuple[Path, Path]:
    """An age identity (the keeper's, offline) and its recipient (on the server)."""
    from pyrage import x25519

    identity = x25519.Identity.generate()
    identity_file, recipients = tmp_path / "keeper-identity.txt", tmp_path / "backup-recipients.txt"
    identity_file.write_text(f"# a keeper's identity\n{identity}\n")
    recipients.write_text(f"# keepers\n{identity.to_public()}\n")
    return identity_file, recipients


def drill(tmp_path: Path, source_url: str = "", restore_url: str = "") -> None:
    keys = Fernet.generate_key().decode()
    identity, recipients = _keys(tmp_path)
    source = _env(tmp_path / "production", keys, source_url)
    seeded = _run(source, "-c", SEED)
    assert seeded.returncode == 0 and b"seeded" in seeded.stdout, seeded.stderr[-3000:]
    before = _run(source, "-c", STATE)
    assert before.returncode == 0, before.stderr[-3000:]

    # On production: the nightly backup.
    backup = _zbor(source, "backup", "--to", str(tmp_path / "backups"), "--recipients", str(recipients))
    assert backup.returncode == 0, backup.stderr
    (archive,) = (tmp_path / "backups").glob("zbor-*.tar.age")
    assert archive.stat().st_mode & 0o777 == 0o600
    data = archive.read_bytes()
    secrets = [NAME, EMAIL, DOCUMENT_LABEL, "+375 29 000", SECRET_KEY, keys, str(identity.read_text().split()[-1])]
    assert [s for s in secrets if s.encode() in data or s.encode("utf-16-le") in data] == []
    assert b"%PDF" not in data and b"JFIF" not in data and b"SQLite format" not in data

    # On the scratch server: an empty database, empty folders, production's keys, a new SECRET_KEY.
    scratch = _env(tmp_path / "scratch", keys, restore_url)
    scratch["SECRET_KEY"] = "another-" + SECRET_KEY
    # The keeper's identity comes from their stick on stdin, never copied onto the server.
    restored = _zbor(scratch, "restore", str(archive), "--identity", "/dev/stdin", stdin=identity)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "reconcile: clean: no differences" in restored.stdout
    assert "private data: campaigns.beneficiary.real_name_secret of one record opens" in restored.stdout
    assert "private files: one of campaigns.beneficiarydocument opens" in restored.stdout
    assert "WARNING" not in restored.stdout
    assert "restore complete: all checks passed" in restored.stdout
    reconciled = _zbor(scratch, "reconcile")
    assert reconciled.returncode == 0 and "clean: no differences" in reconciled.stdout, reconciled.stdout
    if restore_url:
        _assert_append_only_triggers(restore_url)
    after = _run(scratch, "-c", STATE)
    assert after.returncode == 0, after.stderr[-3000:]
    assert json.loads(after.stdout) == json.loads(before.stdout)
    assert json.loads(after.stdout)["real_name"] == NAME

    # A second restore into the now restored copy is refused, and changes nothing.
    again = _zbor(scratch, "restore", str(archive), "--identity", "/dev/stdin", stdin=identity)
    assert again.returncode == 1 and "the database is not empty" in again.stderr


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

    names = [f"zbor_backup_{role}_{uuid.uuid4().hex[:8]}" for role in ("prod", "scratch")]
    with psycopg.connect(url, autocommit=True) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
    base = url.rsplit("/", 1)[0]
    try:
        drill(tmp_path, f"{base}/{names[0]}", f"{base}/{names[1]}")
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            for name in names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
