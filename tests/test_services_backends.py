"""PostgreSQL and Redis, when CI provides them (ZBOR_TEST_DATABASE_URL, ZBOR_TEST_REDIS_URL)."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("ZBOR_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("ZBOR_TEST_REDIS_URL")


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="set ZBOR_TEST_DATABASE_URL to a PostgreSQL server to run this test")
def test_migrations_apply_and_the_demo_loads_on_postgresql():
    import psycopg

    name = f"zbor_check_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(PG_URL, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
        env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.dev"}
        for command in (
            ["migrate", "--no-input", "-v0"],
            ["load_demo"],
            ["load_demo"],
            ["makemigrations", "--check", "--dry-run"],
        ):
            result = subprocess.run(
                [sys.executable, "-m", "zbor", *command],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert result.returncode == 0, (command, result.stdout, result.stderr)
        with psycopg.connect(url) as conn:
            assert conn.execute("select count(*) from campaigns_campaign").fetchone()[0] == 8
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.mark.redis
@pytest.mark.skipif(not REDIS_URL, reason="set ZBOR_TEST_REDIS_URL to a Redis server to run this test")
def test_redis_url_gives_a_working_shared_cache():
    code = (
        "import django; django.setup(); from django.core.cache import cache; "
        "cache.set('zbor-ci-probe', 'ok', 30); print(cache.get('zbor-ci-probe'))"
    )
    env = {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "ZBOR_CACHE_PREFIX": "zbor-test",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
    import redis

    assert redis.Redis.from_url(REDIS_URL).exists("zbor-test:1:zbor-ci-probe")
