"""A seized database holds no recovery code: not after enrolment, not after the upgrade that
hashed django-otp's plaintext codes (migration accounts 0010), on SQLite (the database's files)
and PostgreSQL (a dump); and the codes staff held before the upgrade still sign in, once."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from tests.postgres import run_here_or_on_postgres
from zbor.accounts.models import RecoveryCode, RecoveryCodeDevice

ROOT = Path(__file__).resolve().parents[3]
BEFORE = [("accounts", "0009_recovery_code_device")]
OLD_CODES = ["ab2cd3ef", "gh4ij5kl", "mn6op7qr"]
WINDOW_CODE = "st2uv3wx"  # made by an old server during the rolling upgrade

# Runs in a fresh database: the release before (django-otp's plaintext codes), the upgrade, then
# a new enrolment, and one by an old server during the upgrade window, hashed by the next
# migrate. Prints the codes enrolment showed, and whether the older codes still sign in.
SCRIPT = textwrap.dedent(
    """
    import sys
    from datetime import timedelta
    import django
    django.setup()
    from django.core.management import call_command
    from django.contrib.auth import get_user_model
    from django.utils import timezone
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    for app, target in (("auth", None), ("otp_static", None), ("accounts", "0009")):
        call_command("migrate", app, *([target] if target else []), verbosity=0)
    User = get_user_model()
    before = User.objects.create_user("before", is_staff=True)
    old = StaticDevice.objects.create(user=before, name="recovery codes", confirmed=True)
    for code in sys.argv[1:-1]:
        StaticToken.objects.create(device=old, token=code)
    call_command("migrate", verbosity=0)
    from zbor.accounts import enrolment
    from zbor.accounts.models import EnrolmentLink, RecoveryCodeDevice
    print("old code signs in:", RecoveryCodeDevice.objects.get(user=before).verify_token(sys.argv[1]))
    link = EnrolmentLink.objects.create(
        user=User.objects.create_user("after", is_staff=True), token_hash="2" * 64,
        expires_at=timezone.now() + timedelta(days=1),
    )
    print("enrolled codes:", " ".join(enrolment.complete(link, enrolment.pending_device(link), None)))
    # An old server, still running, enrols someone after the upgrade: plain text again, until
    # the next migrate.
    window = User.objects.create_user("window", is_staff=True)
    StaticToken.objects.create(device=StaticDevice.objects.create(user=window, name="rc"), token=sys.argv[-1])
    call_command("migrate", verbosity=0)
    print("window code signs in:", RecoveryCodeDevice.objects.get(user=window).verify_token(sys.argv[-1]))
    """
)


def _forms(code: str) -> list[bytes]:
    """Every way a code could be written down: as shown, without dashes, either case."""
    bare = code.replace("-", "")
    return [form.encode() for form in {code, bare, code.upper(), bare.upper()}]


def _seize(env: dict) -> list[bytes]:
    """Run SCRIPT; the forms of every code it made (before and after the upgrade)."""
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, *OLD_CODES, WINDOW_CODE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line)
    assert lines["old code signs in"] == "True", result.stdout
    assert lines["window code signs in"] == "True", result.stdout
    codes = lines["enrolled codes"].split()
    assert len(codes) == 10
    return [form for code in [*OLD_CODES, WINDOW_CODE, *codes] for form in _forms(code)]


def test_no_recovery_code_in_the_sqlite_files_after_upgrade_and_enrolment(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.dev", "ZBOR_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    needles = _seize(env)
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert any(path.name == "zbor.sqlite3" for path in files)
    found = [(path.name, needle) for path in files for needle in needles if needle in path.read_bytes()]
    assert found == []


def test_no_recovery_code_in_a_postgresql_dump_after_upgrade_and_enrolment(tmp_path):
    url = os.environ.get("ZBOR_TEST_DATABASE_URL") or (
        os.environ.get("DATABASE_URL", "") if connection.vendor == "postgresql" else ""
    )
    if not url:
        pytest.skip("needs PostgreSQL: set ZBOR_TEST_DATABASE_URL")
    import psycopg

    name = f"zbor_recovery_{uuid.uuid4().hex[:8]}"
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
        assert b"COPY public.accounts_recoverycode " in dump.stdout
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
    MigrationExecutor(connection).migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_hashes_plaintext_codes_and_they_still_sign_in_once():
    """Migrated from the release before: each django-otp static device becomes a hashed one with
    its person, name, confirmation, back-off and timestamps; no plaintext code remains."""
    _upgrade_and_check()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_upgrade_hashes_plaintext_codes_on_postgresql_too():
    node = f"{__file__}::test_the_upgrade_hashes_plaintext_codes_and_they_still_sign_in_once"
    if run_here_or_on_postgres(node):
        _upgrade_and_check()


def _upgrade_and_check() -> None:
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    now = timezone.now()
    _migrate(BEFORE)
    try:
        # The models as the release before had them (with auth and otp_static).
        state = BEFORE + [node for node in latest if node[0] in ("auth", "otp_static")]
        old = MigrationExecutor(connection).loader.project_state(state).apps
        user = old.get_model("auth", "User").objects.create(username="oldcodes", is_staff=True)
        device = old.get_model("otp_static", "StaticDevice").objects.create(
            user=user,
            name="paper codes",
            confirmed=True,
            throttling_failure_count=2,
            throttling_failure_timestamp=now - timedelta(hours=1),
            last_used_at=now - timedelta(days=2),
        )
        old.get_model("otp_static", "StaticDevice").objects.filter(pk=device.pk).update(
            created_at=now - timedelta(days=30)
        )
        for code in OLD_CODES:
            old.get_model("otp_static", "StaticToken").objects.create(device=device, token=code)
        assert OLD_CODES[0].encode() in _every_row()  # the release before: plain text
    finally:
        _migrate(latest)
    moved = RecoveryCodeDevice.objects.get()
    assert (moved.user_id, moved.name, moved.confirmed, moved.throttling_failure_count) == (
        user.pk,
        "paper codes",
        True,
        2,
    )
    assert moved.created_at == now - timedelta(days=30) and moved.last_used_at == now - timedelta(days=2)
    assert RecoveryCode.objects.filter(device=moved).count() == 3
    rows = _every_row()
    assert [form for code in OLD_CODES for form in _forms(code) if form in rows] == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM otp_static_statictoken")
        assert cursor.fetchone() == (0,)
    # The codes staff hold sign in, typed any way, each once.
    moved.throttle_reset()
    assert moved.verify_token(OLD_CODES[0].upper())
    assert not moved.verify_token(OLD_CODES[0])
    moved.throttle_reset()
    assert moved.verify_token(OLD_CODES[1][:4] + "-" + OLD_CODES[1][4:])
    # Migrating back cannot put a code back (only hashes are left): the hashes stay, django-otp's
    # table stays empty, and migrating forward again changes nothing.
    _migrate(BEFORE)
    try:
        assert not old.get_model("otp_static", "StaticToken").objects.exists()
        assert RecoveryCode.objects.count() == 1
    finally:
        _migrate(latest)
    assert RecoveryCodeDevice.objects.get().verify_token(OLD_CODES[2])


@pytest.mark.django_db
def test_codes_an_old_server_wrote_after_the_upgrade_are_hashed_by_the_next_migrate():
    from django.apps import apps
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    from tests import factories
    from zbor.accounts import legacy_codes

    user = factories.role_user("editor", "windowuser")
    StaticToken.objects.create(device=StaticDevice.objects.create(user=user, name="rc"), token=WINDOW_CODE)
    legacy_codes.move_leftovers_after_migrate(sender=apps.get_app_config("auth"))  # not accounts: nothing
    with mock.patch.object(MigrationRecorder, "applied_migrations", return_value={}):
        legacy_codes.move_leftovers_after_migrate(sender=apps.get_app_config("accounts"))  # 0010 not run yet
    assert StaticToken.objects.exists() and not RecoveryCodeDevice.objects.exists()
    legacy_codes.move_leftovers_after_migrate(sender=apps.get_app_config("accounts"))
    assert not StaticDevice.objects.exists() and not StaticToken.objects.exists()
    device = RecoveryCodeDevice.objects.get(user=user)
    assert WINDOW_CODE not in repr(list(RecoveryCode.objects.values()))
    assert device.verify_token(WINDOW_CODE) and not device.verify_token(WINDOW_CODE)
