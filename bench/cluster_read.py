"""What the site and the database say during `make bench-cluster` (bench/cluster.py): the demo
campaign's collected total in the public API and on its page, and its donations in the database."""

from __future__ import annotations

import html
import json
import re
import subprocess
from pathlib import Path
from typing import Any

from bench import harness
from bench.harness import BIN, ROOT
from bench.run import DEMO

PAGE = f"/en/campaigns/{DEMO}/"
API = f"/api/v1/campaigns/{DEMO}"


class Failed(Exception):
    """A request answered something other than what a browser expects at that step."""


def api_collected(server: str) -> tuple[int, str]:
    collected = json.loads(harness.fetch(server + API))["collected"]
    return collected["amount"], collected["formatted"]


def page_collected(server: str) -> str:
    page = harness.fetch(server + PAGE).decode()
    match = re.search(r"Collected: <strong>([^<]+)</strong>", page)
    return html.unescape(match.group(1)) if match else "(no total on the page)"


DATABASE_QUERY = """
import json, sys
import django
django.setup()
from django.db.models import Count
from zbor.campaigns.models import Campaign
from zbor.donations.models import Donation
from zbor.donations.selectors import campaign_money
campaign = Campaign.objects.get(slug=sys.argv[1])
keys = json.load(open(sys.argv[2]))
rows = Donation.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", "campaign__slug", "provider", "status", "amount")
print(json.dumps({
    "campaign_donations": Donation.objects.filter(campaign=campaign).count(),
    "by_status": {f"{p}:{s}": n for p, s, n in Donation.objects.filter(campaign=campaign)
                  .values_list("provider", "status").annotate(n=Count("id")).values_list("provider", "status", "n")},
    "collected": campaign_money(campaign.pk, []).collected,
    "donations": {key: [slug, provider, status, amount] for key, slug, provider, status, amount in rows},
}))
"""


def database(env: dict[str, str], work: Path, keys: list[str]) -> dict[str, Any]:
    keys_file = work / "keys.json"
    keys_file.write_text(json.dumps(keys))
    out = subprocess.run(
        [str(BIN / "python"), "-c", DATABASE_QUERY, DEMO, str(keys_file)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if out.returncode != 0:
        raise Failed(f"reading the database failed:\n{out.stderr[-1500:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])
