"""A seized database holds no authenticator key (TOTP seed) that could produce sign-in codes:
not after enrolment, not after the upgrade that moved django-otp's plaintext devices
(migration accounts 0008), on SQLite (the database's files) and PostgreSQL (a dump)."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
import textwrap
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_otp.oath import TOTP

from tests.postgres import run_here_or_on_postgres
from zbor.accounts.models import AuthenticatorDevice, EnrolmentLink

ROOT = Path(__file__).resolve().parents[3]
BEFORE = [("accounts", "0007_authenticator_device")]

# Runs in a fresh database: the release before (django-otp's plaintext devices, a link half-way
# through enrolment), the upgrade, then a new enrolment and a link opened after it. Prints the
# keys made after the upgrade, and whether the moved device still signs in.
SCRIPT = textwrap.dedent(
    """
    import io, sys, time
    from datetime import timedelta
    import django
    django.setup()
    from django.core.management import call_command
    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    old_key, old_pending = sys.argv[1], sys.argv[2]
    for app, target in (("auth", None), ("otp_totp", None), ("accounts", "0007")):
        call_command("migrate", app, *([target] if target else []), verbosity=0)
    from zbor.accounts import enrolment
    from zbor.accounts.models import AuthenticatorDevice, EnrolmentLink
    User = get_user_model()
    before = User.objects.create_user("before", is_staff=True)
    TOTPDevice.objects.create(user=before, name="old phone", key=old_key)
    EnrolmentLink.objects.create(
        user=User.objects.create_user("halfway", is_staff=True), token_hash="1" * 64,
        expires_at=timezone.now() + timedelta(days=1), pending_key=old_pending,
    )
    call_command("migrate", verbosity=0)
    totp = TOTP(bytes.fromhex(old_key))
    print("moved device signs in:", AuthenticatorDevice.objects.get(user=before).verify_token(totp.token()))
    User.objects.create_user("after", is_staff=True)
    call_command("totp_enroll", "after", stdout=io.StringIO())
    print("enrolled key:", AuthenticatorDevice.objects.get(user__username="after").key)
    link = EnrolmentLink.objects.create(
        user=User.objects.create_user("opening", is_staff=True), token_hash="2" * 64,
        expires_at=timezone.now() + timedelta(days=1),
    )
    print("pending key:", enrolment.pending_device(link).key)
    """
)


def _forms(key_hex: str) -> list[bytes]:
    """Every way a key could be written down: hex either case, base32 (the QR code's), raw."""
    raw = bytes.fromhex(key_hex)
    b32 = base64.b32encode(raw)
    return [key_hex.lower().encode(), key_hex.upper().encode(), b32, b32.rstrip(b"="), raw]


def _seize(env: dict) -> list[bytes]:
    """Run SCRIPT; the forms of every key it made (before and after the upgrade)."""
    old_key, old_pending = secrets.token_hex(20), secrets.token_hex(20)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, old_key, old_pending],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)
    assert lines["moved device signs in"] == "True", result.stdout
    keys = [old_key, old_pending, lines["enrolled key"], lines["pending key"]]
    return [form for key in keys for form in _forms(key)]


def test_no_authenticator_key_in_the_sqlite_files_after_upgrade_and_enrolment(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev", "ZBOR_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    needles = _seize(env)
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert any(path.name == "zbor.sqlite3" for path in files)
    found = [(path.name, needle) for path in files for needle in needles if needle in path.read_bytes()]
    assert found == []


def test_no_authenticator_key_in_a_postgresql_dump_after_upgrade_and_enrolment(tmp_path):
    url = os.environ.get("ZBOR_TEST_DATABASE_URL") or (
        os.environ.get("DATABASE_URL", "") if connection.vendor == "postgresql" else ""
    )
    if not url:
        pytest.skip("needs PostgreSQL: set ZBOR_TEST_DATABASE_URL")
    import psycopg

    name = f"zbor_totp_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as server:
        server.execute(f'CREATE DATABASE "{name}"')
    db_url = url.rsplit("/", 1)[0] + f"/{name}"
    try:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.dev",
            "ZBOR_DATA_DIR": str(tmp_path),
            "DATABASE_URL": db_url,
        }
        needles = _seize(env)
        dump = subprocess.run(["pg_dump", "--data-only", db_url], capture_output=True, timeout=120)
        assert dump.returncode == 0, dump.stderr
        assert b"COPY public.accounts_authenticatordevice" in dump.stdout
        assert [needle for needle in needles if needle in dump.stdout] == []
    finally:
        with psycopg.connect(url, autocommit=True) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _every_row() -> bytes:
    """Every value of every table, as text: what a dump of this database would show."""
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608  # nosec B608
            rows += [repr(row) for row in cursor.fetchall()]
    return "\n".join(rows).encode()


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_moves_plaintext_devices_encrypted_and_they_still_sign_in():
    """Migrated from the release before: each django-otp TOTP device becomes an encrypted one with
    its person, name, confirmation, drift, last step and back-off; no plaintext key remains."""
    _upgrade_and_check()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_upgrade_moves_plaintext_devices_on_postgresql_too():
    node = f"{__file__}::test_the_upgrade_moves_plaintext_devices_encrypted_and_they_still_sign_in"
    if run_here_or_on_postgres(node):
        _upgrade_and_check()


def _upgrade_and_check() -> None:
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    key, pending, now = secrets.token_hex(20), secrets.token_hex(20), timezone.now()
    _migrate(BEFORE)
    try:
        # The models as the release before had them (accounts at 0007, with auth and otp_totp).
        state = BEFORE + [node for node in latest if node[0] in ("auth", "otp_totp")]
        old = MigrationExecutor(connection).loader.project_state(state).apps
        user = old.get_model("auth", "User").objects.create(username="oldphone", is_staff=True)
        device = old.get_model("otp_totp", "TOTPDevice").objects.create(
            user=user,
            name="old phone",
            confirmed=True,
            key=key,
            drift=1,
            last_t=7,
            throttling_failure_count=2,
            throttling_failure_timestamp=now - timedelta(hours=1),
        )
        old.get_model("otp_totp", "TOTPDevice").objects.filter(pk=device.pk).update(
            created_at=now - timedelta(days=30)
        )
        old.get_model("accounts", "EnrolmentLink").objects.create(
            user=user, token_hash="3" * 64, expires_at=now + timedelta(days=1), pending_key=pending
        )
        assert key.encode() in _every_row()  # the release before: a plain hex column
    finally:
        _migrate(latest)
    moved = AuthenticatorDevice.objects.get()
    assert (moved.user_id, moved.name, moved.confirmed) == (user.pk, "old phone", True)
    assert (moved.drift, moved.last_t, moved.throttling_failure_count) == (1, 7, 2)
    assert moved.created_at == now - timedelta(days=30)
    assert moved.key == key and key not in moved.key_secret
    link = EnrolmentLink.objects.get()
    assert link.pending_key == "" and link.pending_key_secret
    rows = _every_row()
    assert [
        form for secret in (key, pending) for form in (secret.encode(), secret.upper().encode()) if form in rows
    ] == []
    assert [row for row in rows.split(b"\n") if base64.b32encode(bytes.fromhex(key)) in row] == []
    # The moved device signs in with the phone's code (its drift kept), and not twice.
    phone = TOTP(bytes.fromhex(key), drift=1)
    code = phone.token()
    assert moved.verify_token(code)
    assert not moved.verify_token(code)
    # A rollback to the release before (migrating back with this release's code) puts the keys
    # back where that release reads them, with the state the new release left.
    moved.refresh_from_db()
    _migrate(BEFORE)
    try:
        back = old.get_model("otp_totp", "TOTPDevice").objects.get()
        assert (back.key, back.user_id, back.last_t, back.throttling_failure_count) == (
            key,
            user.pk,
            moved.last_t,
            moved.throttling_failure_count,
        )
        assert old.get_model("accounts", "EnrolmentLink").objects.get().pending_key == pending
    finally:
        _migrate(latest)
    assert AuthenticatorDevice.objects.get().key == key
