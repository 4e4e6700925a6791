"""ZBOR_METRICS_DIR that does not exist (zbor/metrics.py): made 0700 when it can be; when it
cannot, requests are answered as usual (never a 500), nothing is counted, and a scrape gets a
503 that says why."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-folder-token-0123456789abcdef"

REQUESTS = f"""
import django, json
django.setup()
from django.test import Client
client = Client()
scrape = client.get("/metrics", headers={{"authorization": "Bearer {TOKEN}"}})
print(json.dumps({{"page": client.get("/no-such-page/").status_code, "scrape": scrape.status_code}}))
"""


def _run(folder: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "ZBOR_METRICS_TOKEN": TOKEN,
        "ZBOR_METRICS_DIR": str(folder),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return subprocess.run(
        [sys.executable, "-c", REQUESTS], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def test_a_missing_folder_is_made_private_and_counted_in(tmp_path):
    folder = tmp_path / "run" / "zbor-web"
    result = _run(folder)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == '{"page": 404, "scrape": 200}'
    assert folder.stat().st_mode & 0o777 == 0o700
    assert any(folder.glob("*.db"))  # the process's counts, in prometheus_client's files


def test_a_folder_that_cannot_be_made_fails_the_scrape_only(tmp_path):
    (tmp_path / "a-file").write_text("")
    result = _run(tmp_path / "a-file" / "zbor-web")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == '{"page": 404, "scrape": 503}'
    assert "ZBOR_METRICS_DIR" in result.stderr and "metrics are not counted" in result.stderr
