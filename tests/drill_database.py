"""The restore drill's scratch database (tests/test_restore_drill.py): what deploy/install.sh
makes (a role with a password, its database) and what the drill's step 1 makes again."""

from __future__ import annotations

import os
import subprocess
import urllib.parse
import uuid
from pathlib import Path


class Database:
    """The scratch server's database: what install.sh makes, and what step 1 makes again."""

    def __init__(self, data_dir: Path, admin_url: str = ""):
        self.data_dir, self.admin_url = data_dir, admin_url
        if admin_url:
            suffix = uuid.uuid4().hex[:8]
            self.role, self.name, self.password = f"zbor_drill_{suffix}", f"zbor_drill_{suffix}", uuid.uuid4().hex
            parts = urllib.parse.urlsplit(admin_url)
            self.url = f"postgres://{self.role}:{self.password}@{parts.hostname}:{parts.port or 5432}/{self.name}"

    @property
    def sqlite_files(self) -> list[Path]:
        return [self.data_dir / f"zbor.sqlite3{end}" for end in ("", "-wal", "-shm")]

    def install(self) -> str:
        """install.sh's database step: the role with DATABASE_URL's password, its database."""
        if not self.admin_url:
            return ""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}").format(
                    sql.Identifier(self.role), sql.Literal(self.password)
                )
            )
            admin.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(self.name), sql.Identifier(self.role))
            )
        return self.url

    def empty(self) -> None:
        """Step 1: dropdb --force and createdb -O the role; or remove the SQLite files."""
        if not self.admin_url:
            for path in self.sqlite_files:
                path.unlink(missing_ok=True)
            return
        admin = self._admin_args()
        for command in (
            ["dropdb", *admin, "--if-exists", "--force", self.name],
            ["createdb", *admin, "-O", self.role, self.name],
        ):
            password = urllib.parse.urlsplit(self.admin_url).password
            env = {**os.environ, **({"PGPASSWORD": password} if password else {})}
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603
            assert done.returncode == 0, done.stderr

    def _admin_args(self) -> list[str]:
        parts = urllib.parse.urlsplit(self.admin_url)
        return ["-h", parts.hostname or "localhost", "-p", str(parts.port or 5432), "-U", parts.username or "postgres"]

    def drop(self) -> None:
        if self.admin_url:
            import psycopg
            from psycopg import sql

            with psycopg.connect(self.admin_url, autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))
                admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(self.role)))
