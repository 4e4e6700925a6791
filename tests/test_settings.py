"""Configuration from the environment: the embedded default, production refusals, the command."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
KEY = "ZmFrZS10ZXN0LWtleS0wMDAwMDAwMDAwMDAwMDAwMDA="


def _run_python(code: str, **env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL", "REDIS_URL"}}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "secret",
    [
        None,
        "",
        "change-me",
        "dev-insecure-zbor-secret-key-do-not-use-in-production",
        "django-insecure-" + "x" * 60,
        "short",
    ],
)
def test_production_settings_refuse_a_missing_or_default_secret_key(secret):
    env = {"DJANGO_SETTINGS_MODULE": "config.settings.production"}
    if secret is not None:
        env["SECRET_KEY"] = secret
    result = _run_python("import django; django.setup()", **env)
    assert result.returncode != 0
    assert "SECRET_KEY is missing or a default" in result.stderr


def test_production_settings_start_with_a_real_secret_key():
    result = _run_python(
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.ZBOR_DEMO)",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="k" * 20 + "9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1",
        ZBOR_ENCRYPTION_KEYS=KEY,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "False"]


@pytest.mark.parametrize(("url", "starts"), [("http://btcpay.example", False), ("https://btcpay.example", True)])
def test_production_settings_talk_to_btcpay_over_https_only(url, starts):
    result = _run_python(
        "import django; django.setup()",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="k" * 20 + "9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1",
        ZBOR_ENCRYPTION_KEYS=KEY,
        ZBOR_PAYMENT_PROVIDERS="btcpay,bank",
        BTCPAY_URL=url,
    )
    assert (result.returncode == 0) is starts, result.stderr
    assert ("BTCPAY_URL must be an https:// address" in result.stderr) is not starts


def test_demo_data_cannot_be_loaded_with_production_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "zbor", "load_demo"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": "p" * 64,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
            "ZBOR_ENCRYPTION_KEYS": KEY,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "only loaded with demo settings" in result.stderr


def test_zero_configuration_is_sqlite_in_the_data_dir_with_wal_and_immediate_transactions(tmp_path):
    result = _run_python(
        "import django; django.setup(); from django.conf import settings; from django.db import connection; "
        "db = settings.DATABASES['default']; c = connection.cursor(); c.execute('PRAGMA journal_mode'); "
        "print(db['ENGINE'], db['NAME'], db['OPTIONS']['transaction_mode'], c.fetchone()[0], settings.CACHES['default']['BACKEND'])",
        DJANGO_SETTINGS_MODULE="config.settings.dev",
        ZBOR_DATA_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    engine, name, mode, journal, cache = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"  # Django's own, its connections queue writers (factory)
    assert name == str(tmp_path / "zbor.sqlite3")
    assert (mode, journal) == ("IMMEDIATE", "wal")
    assert cache.endswith("LocMemCache")


def test_database_and_redis_urls_switch_the_backends():
    result = _run_python(
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default']['ENGINE'], settings.DATABASES['default']['NAME'], settings.CACHES['default']['BACKEND'])",
        DJANGO_SETTINGS_MODULE="config.settings.dev",
        DATABASE_URL="postgres://zbor@db.internal:5432/zbor",
        REDIS_URL="redis://cache.internal:6379/1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "zbor", "zbor.cache.ResilientRedisCache"]


def test_a_bad_boolean_in_the_environment_is_a_clear_error():
    result = _run_python(
        "import django; django.setup()", DJANGO_SETTINGS_MODULE="config.settings.dev", DEBUG="perhaps"
    )
    assert result.returncode != 0 and "DEBUG must be true or false" in result.stderr


def test_the_zbor_command_is_manage_py():
    result = subprocess.run(
        [sys.executable, "-m", "zbor", "help", "migrate"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and "usage:" in result.stdout and "migrate" in result.stdout
    installed = Path(sys.executable).parent / "zbor"
    assert installed.exists(), "the package installs a `zbor` command"


@pytest.mark.django_db
def test_the_suite_runs_on_the_configured_database():
    expected = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    assert connection.vendor == expected


def test_the_demo_payment_provider_cannot_be_enabled_in_production():
    result = _run_python(
        "import django; django.setup()",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="s" * 64,
        ZBOR_ENCRYPTION_KEYS=KEY,
        ZBOR_PAYMENT_PROVIDERS="demo,bank",
    )
    assert result.returncode != 0 and "demo payment provider cannot be enabled" in result.stderr


def test_the_admin_shows_which_payment_methods_are_live(admin_client):
    page = admin_client.get("/backoffice/donations/donation/").content.decode()
    assert "Live payment methods:" in page and "Test payment (demo), Bank transfer" in page


def test_production_settings_refuse_to_start_without_encryption_keys():
    result = _run_python(
        "import django; django.setup()", DJANGO_SETTINGS_MODULE="config.settings.production", SECRET_KEY="s" * 64
    )
    assert result.returncode != 0 and "ZBOR_ENCRYPTION_KEYS is required" in result.stderr


def test_production_settings_pass_check_deploy_with_no_warning():
    result = subprocess.run(
        [sys.executable, "-m", "zbor", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}},
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": "d" * 20 + "8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0",
            "ZBOR_ENCRYPTION_KEYS": KEY,
            "ZBOR_PAYMENT_PROVIDERS": "bank",
            "ZBOR_BANK_IBAN": "PL61 1090 1014 0000 0712 1981 2874",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_staff_pages_are_never_indexed_or_cached_and_no_page_asks_for_browser_features(client):
    login = client.get("/backoffice/login/")
    assert login["X-Robots-Tag"] == "noindex, nofollow" and login["Cache-Control"] == "no-store"
    page = client.get("/en/")
    assert "camera=()" in page["Permissions-Policy"] and "geolocation=()" in page["Permissions-Policy"]
    assert page["Referrer-Policy"] == "same-origin" and page["X-Content-Type-Options"] == "nosniff"


def test_sqlite_writers_of_one_process_take_turns_in_the_process(tmp_path):
    """zbor.sqlite_writers: a transaction holds the process's writer lock from BEGIN to COMMIT
    or ROLLBACK, and a write outside a transaction for its statement, so threads queue in the
    process instead of in SQLite's sleeping retries."""
    result = _run_python(
        open(ROOT / "tests" / "sqlite_writers.py").read(),
        DJANGO_SETTINGS_MODULE="config.settings.dev",
        ZBOR_DATA_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["errors"] == [] and seen["rows"] == 16 * 40 * 2
    assert seen["returned"] and seen["waited_for_turn"] and seen["rows_read_at_once"]
    assert seen["held_inside"] and not seen["held_after"] and seen["free_at_end"]
    assert seen["most_at_once"] == 1


def test_the_writer_queue_can_be_switched_off(tmp_path):
    """ZBOR_SQLITE_WRITER_QUEUE=off: Django's SQLite connections as they come, same OPTIONS
    otherwise; writers then queue in SQLite's retries, and still none fails."""
    result = _run_python(
        open(ROOT / "tests" / "sqlite_writers.py").read(),
        DJANGO_SETTINGS_MODULE="config.settings.dev",
        ZBOR_DATA_DIR=str(tmp_path),
        ZBOR_SQLITE_WRITER_QUEUE="off",
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["errors"] == [] and seen["rows"] == 16 * 40 * 2 and seen["returned"]
    assert not seen["held_inside"] and seen["most_at_once"] == 1  # BEGIN IMMEDIATE still serialises


def test_the_server_process_leaves_its_loaded_code_out_of_garbage_collection(tmp_path):
    result = _run_python(
        "import gc, json, config.wsgi as w; print(json.dumps([gc.get_freeze_count(), gc.get_threshold(), w.GC_FIRST_THRESHOLD]))",
        DJANGO_SETTINGS_MODULE="config.settings.dev",
        ZBOR_DATA_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    frozen, threshold, first = json.loads(result.stdout.strip().splitlines()[-1])
    assert frozen > 10_000  # Django and the apps, loaded once
    assert threshold[0] == first > 700
