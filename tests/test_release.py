"""deploy/install.sh's environment file (never overwritten; placeholders refused before anything
is built) and the task queue's name per site. The whole install (twice, into a temporary
prefix) and an upgrade under load run in `make bench-cluster` (bench/cluster_upgrade.py): each
builds a virtualenv, about 45 s, too slow for every `make test`."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INSTALL = ROOT / "deploy" / "install.sh"
EXAMPLE = ROOT / "deploy" / "zbor.env.example"
REDIS_URL = os.environ.get("ZBOR_TEST_REDIS_URL")

pytestmark = pytest.mark.skipif(not shutil.which("git"), reason="install.sh builds releases from git")


def install(tmp_path: Path, env_file: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    """install.sh into ``tmp_path`` as the current user, with no systemd units."""
    user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    group = subprocess.run(["id", "-gn"], capture_output=True, text=True, check=True).stdout.strip()
    env = {
        "PATH": os.environ["PATH"],
        "ZBOR_USER": user,
        "ZBOR_GROUP": group,
        "ZBOR_WEB_GROUP": group,
        "ZBOR_HOME": str(tmp_path / "opt"),
        "ZBOR_ENV_FILE": str(env_file),
        "ZBOR_BACKUP_DIR": str(tmp_path / "backups"),
        "ZBOR_INSTALL_UNITS": "no",
        **extra,
    }
    return subprocess.run(["bash", str(INSTALL), *args], env=env, capture_output=True, text=True, timeout=120)


def test_a_missing_env_file_is_written_from_the_example_and_its_placeholders_refused(tmp_path):
    env_file = tmp_path / "etc" / "zbor.env"
    result = install(tmp_path, env_file)
    assert result.returncode == 2, result.stderr
    assert env_file.read_bytes() == EXAMPLE.read_bytes()
    assert env_file.stat().st_mode & 0o777 == 0o640
    # What to fill, by line and name, never a value.
    assert "SECRET_KEY (at least 50 random characters)" in result.stderr
    assert "ZBOR_ENCRYPTION_KEYS (a Fernet key)" in result.stderr
    assert "DATABASE_URL (replace CHANGE-ME)" in result.stderr
    assert "ZBOR_ADMIN_PATH (replace CHANGE-ME)" in result.stderr
    # Nothing was built or created past the environment file.
    assert not (tmp_path / "opt").exists()
    assert not (tmp_path / "backups").exists()


def test_an_existing_env_file_is_never_overwritten(tmp_path):
    env_file = tmp_path / "zbor.env"
    mine = "DJANGO_SETTINGS_MODULE=config.settings.production\nSECRET_KEY=mine\nZBOR_ENCRYPTION_KEYS=\n"
    env_file.write_text(mine)
    env_file.chmod(0o600)
    before = env_file.stat()
    for _ in range(2):
        result = install(tmp_path, env_file)
        assert result.returncode == 2, result.stderr
        assert "line 2: SECRET_KEY" in result.stderr
        assert "line 3: ZBOR_ENCRYPTION_KEYS" in result.stderr
        assert "mine" not in result.stderr + result.stdout
    assert env_file.read_text() == mine
    after = env_file.stat()
    assert (after.st_mtime_ns, after.st_mode) == (before.st_mtime_ns, before.st_mode)
    assert not (tmp_path / "opt").exists()


@pytest.mark.redis
@pytest.mark.skipif(not REDIS_URL, reason="set ZBOR_TEST_REDIS_URL to a Redis server to run this test")
def test_two_sites_sharing_a_redis_database_have_their_own_task_queues():
    url = REDIS_URL.rsplit("/", 1)[0] + "/7"  # this test's own database
    code = (
        "import sys, django; django.setup(); from huey.contrib.djhuey import HUEY; "
        "HUEY.storage.enqueue(b'task') if sys.argv[1] == 'put' else None; "
        "print(HUEY.name, HUEY.pending_count())"
    )

    def site(prefix: str, action: str, **extra: str) -> str:
        env = {
            **os.environ,
            "REDIS_URL": url,
            "DJANGO_SETTINGS_MODULE": "config.settings.dev",
            "ZBOR_CACHE_PREFIX": prefix,
            **extra,
        }
        env.pop("ZBOR_TASK_QUEUE", None) if "ZBOR_TASK_QUEUE" not in extra else None
        result = subprocess.run(
            [sys.executable, "-c", code, action], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    import redis

    redis.Redis.from_url(url).flushdb()
    try:
        assert site("site-a", "put") == "site-a 1"
        assert site("site-b", "count") == "site-b 0"
        assert site("site-a", "count") == "site-a 1"
        assert site("site-b", "count", ZBOR_TASK_QUEUE="site-a") == "site-a 1"
    finally:
        redis.Redis.from_url(url).flushdb()


PG_URL = os.environ.get("ZBOR_TEST_DATABASE_URL")


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="set ZBOR_TEST_DATABASE_URL to a PostgreSQL server to run this test")
@pytest.mark.skipif(not shutil.which("psql"), reason="install.sh creates the role and database with psql")
def test_the_role_and_database_are_made_once_from_database_url(tmp_path):
    """With ZBOR_PG_ADMIN_URL, install.sh makes DATABASE_URL's role (its password, not a
    superuser) and database (owned by it), and leaves both alone the second time. (A version
    that does not exist stops the run right after, before anything is built.)"""
    import psycopg

    server = PG_URL.rsplit("/", 1)[0]
    host = server.split("@", 1)[-1]
    name = f"zbor_release_{os.getpid()}"
    env_file = tmp_path / "zbor.env"
    env_file.write_text(
        f"DATABASE_URL=postgres://{name}:p%40ss%27word@{host}/{name}\nZBOR_DATA_DIR={tmp_path / 'srv'}\n"
    )
    admin = psycopg.connect(PG_URL, autocommit=True)
    try:
        for _ in range(2):
            result = install(tmp_path, env_file, "no-such-version", ZBOR_PG_ADMIN_URL=PG_URL)
            assert "no-such-version is neither a tag nor a commit" in result.stderr
            assert f"role {name} and database {name}" in result.stdout
        role = admin.execute(
            "SELECT rolsuper, rolcanlogin, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = %s", [name]
        ).fetchall()
        assert role == [(False, True, False, False)]
        # The URL's password (percent-decoded, quotes and all) is the role's: PostgreSQL keeps its hash.
        password = admin.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [name]).fetchone()
        assert password is not None and password[0].startswith(("SCRAM-SHA-256$", "md5"))
        owner = admin.execute("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [name]).fetchall()
        assert owner == [(name,)]
        with psycopg.connect(f"postgres://{name}:p%40ss%27word@{host}/{name}") as conn:
            assert conn.execute("SELECT current_user").fetchone() == (name,)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'DROP ROLE IF EXISTS "{name}"')
        admin.close()


RECORDER = """#!/bin/sh
# Records its command line (and, for psql, its standard input and PGPASSWORD), then runs the real one.
{ printf '%s\\n' "$0 $*"; } >>"$ZBOR_TEST_ARGV"
case $0 in
    */psql) { cat; printf 'PGPASSWORD=%s\\n' "${PGPASSWORD:-}"; } >>"$ZBOR_TEST_STDIN"; exit 0 ;;
    *) exec "$REAL_PYTHON" "$@" ;;
esac
"""


def test_no_password_reaches_a_command_line_or_the_server_in_plaintext(tmp_path):
    """psql and Python recorded: the role's password, percent-decoded, is sent only as a
    SCRAM-SHA-256 verifier on psql's standard input; the admin's password only as PGPASSWORD."""
    import base64
    import hashlib
    import hmac

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("psql", "python-recorded"):
        (bin_dir / name).write_text(RECORDER)
        (bin_dir / name).chmod(0o755)
    argv, stdin = tmp_path / "argv", tmp_path / "stdin"
    env_file = tmp_path / "zbor.env"
    env_file.write_text(
        f"DATABASE_URL=postgres://site:s3cr%24t%20pw@db.internal/zbor\nZBOR_DATA_DIR={tmp_path / 'srv'}\n"
    )
    result = install(
        tmp_path,
        env_file,
        "no-such-version",
        PATH=f"{bin_dir}:{os.environ['PATH']}",
        ZBOR_PYTHON=str(bin_dir / "python-recorded"),
        REAL_PYTHON=shutil.which("python3") or sys.executable,
        ZBOR_PG_ADMIN_URL="postgres://postgres:adm%21n@db.internal:5432/postgres?sslmode=require",
        ZBOR_TEST_ARGV=str(argv),
        ZBOR_TEST_STDIN=str(stdin),
    )
    assert "no-such-version is neither a tag nor a commit" in result.stderr
    commands = argv.read_text()
    assert "psql postgres://postgres@db.internal:5432/postgres?sslmode=require" in commands
    for secret in ("s3cr", "adm"):
        assert secret not in commands
    sent = stdin.read_text()
    assert "s3cr" not in sent
    assert "PGPASSWORD=adm!n" in sent
    verifier = sent.split("\\set password '", 1)[1].split("'", 1)[0]
    method, rest = verifier.split("$", 1)
    iterations_salt, keys = rest.split("$")
    iterations, salt = iterations_salt.split(":")
    stored_key, server_key = keys.split(":")
    assert method == "SCRAM-SHA-256"
    salted = hashlib.pbkdf2_hmac("sha256", b"s3cr$t pw", base64.b64decode(salt), int(iterations))
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    assert base64.b64decode(stored_key) == hashlib.sha256(client_key).digest()
    assert base64.b64decode(server_key) == hmac.digest(salted, b"Server Key", "sha256")


def test_a_symbolic_link_among_the_site_users_folders_is_refused(tmp_path):
    """The site's user could swap a folder of its own for a link to /etc: install.sh stops
    rather than set modes through it."""
    data, elsewhere = tmp_path / "srv", tmp_path / "etc"
    (data / "public").mkdir(parents=True)
    elsewhere.mkdir()
    elsewhere.chmod(0o755)
    (data / "private").symlink_to(elsewhere)
    env_file = tmp_path / "zbor.env"
    env_file.write_text(f"ZBOR_DATA_DIR={data}\n")
    result = install(tmp_path, env_file)
    assert result.returncode == 1
    assert f"{data / 'private'} is a symbolic link" in result.stderr
    assert elsewhere.stat().st_mode & 0o777 == 0o755
    (data / "private").unlink()
    (data / "private").mkdir()
    (data / "public" / "media").symlink_to(elsewhere)
    result = install(tmp_path, env_file)
    assert f"{data / 'public' / 'media'} is a symbolic link" in result.stderr
    assert elsewhere.stat().st_mode & 0o777 == 0o755


def test_zbor_commands_create_files_only_their_user_reads(tmp_path):
    """`zbor migrate` creates the SQLite database with umask 077; collectstatic and what runs as
    root (into the release) never start huey's SQLite queue, even if the environment file says
    otherwise."""
    release = tmp_path / "release"
    (release / ".venv" / "bin").mkdir(parents=True)
    fake = release / ".venv" / "bin" / "zbor"
    fake.write_text('#!/bin/sh\ntouch "$ZBOR_DATA_DIR/$1"\necho "immediate=${ZBOR_TASKS_IMMEDIATE:-}"\n')
    fake.chmod(0o755)
    env_file = tmp_path / "zbor.env"
    env_file.write_text(f"ZBOR_DATA_DIR={tmp_path}\nZBOR_TASKS_IMMEDIATE=false\n")
    user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    script = (
        f'. "{ROOT / "deploy" / "release-lib.sh"}"; umask 022; '
        f'zbor_in "{release}" migrate; zbor_static_in "{release}" static; zbor_root_in "{release}" root'
    )
    result = subprocess.run(
        ["bash", "-c", script],
        env={"PATH": os.environ["PATH"], "ZBOR_USER": user, "ZBOR_ENV_FILE": str(env_file)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["immediate=false", "immediate=1", "immediate=1"]
    assert (tmp_path / "migrate").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "static").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "root").stat().st_mode & 0o777 == 0o644
