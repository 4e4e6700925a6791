"""Running a test that needs real concurrent transactions on PostgreSQL.

When the suite itself runs on PostgreSQL the test runs in place. When it runs on SQLite (the
default `make test`) and ZBOR_TEST_DATABASE_URL names a server, the test runs in a child pytest
pointed at that server; without one it is skipped with that reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def run_here_or_on_postgres(node_id: str) -> bool:
    """True when the caller should run its body now (the suite is on PostgreSQL)."""
    if connection.vendor == "postgresql":
        return True
    url = os.environ.get("ZBOR_TEST_DATABASE_URL")
    if not url:
        pytest.skip("needs PostgreSQL: set ZBOR_TEST_DATABASE_URL")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", node_id],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "ZBOR_FAIL_ON_SKIP": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return False
