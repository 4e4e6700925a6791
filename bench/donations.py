"""Donations recorded end to end, concurrently: confirmation → ledger → balances.

Run by bench/run.py against a PostgreSQL database already migrated with the demo loaded:
creates ``--donations`` pending demo donations on one campaign, confirms them from
``--threads`` threads at once through the same path a provider's webhook takes
(``receive_event``), then checks the totals and runs ``zbor reconcile``. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--donations", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=32)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    import django

    django.setup()
    from django.db import close_old_connections, connection

    from zbor.campaigns.models import Campaign
    from zbor.donations.events import receive_event
    from zbor.donations.models import Donation, DonationStatus
    from zbor.donations.reconcile import reconcile
    from zbor.donations.selectors import campaign_money
    from zbor.payments.base import EventType
    from zbor.payments.demo import DemoProvider

    campaign = Campaign.objects.get(slug="from-prison-to-family")
    before = campaign_money(campaign.pk, list(campaign.needs.values_list("pk", flat=True))).collected
    amounts = [500 + (n * 37) % 5000 for n in range(args.donations)]
    Donation.objects.bulk_create(
        Donation(campaign=campaign, amount=amount, currency=campaign.currency, provider="demo",
                 idempotency_key=uuid.uuid4().hex, checkout_reference=f"demo_{uuid.uuid4().hex}", language="en")
        for amount in amounts
    )
    pending = list(Donation.objects.filter(campaign=campaign, status=DonationStatus.PENDING).values_list("checkout_reference", "amount"))
    chunks = [pending[i :: args.threads] for i in range(args.threads)]
    errors: list[str] = []

    def confirm(chunk):
        try:
            for reference, amount in chunk:
                receive_event(DemoProvider.event(reference, EventType.SUCCEEDED, amount=amount, currency=campaign.currency))
        except Exception as exc:  # noqa: BLE001 - reported, and the bench fails
            errors.append(repr(exc))
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=confirm, args=(chunk,)) for chunk in chunks]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    after = campaign_money(campaign.pk, list(campaign.needs.values_list("pk", flat=True))).collected
    started = time.perf_counter()
    report = reconcile()
    print(json.dumps({
        "donations": len(pending),
        "seconds": seconds,
        "per_second": len(pending) / seconds,
        "exact": after - before == sum(amount for _ref, amount in pending) and not errors,
        "errors": errors[:3],
        "reconcile_clean": report.ok,
        "reconcile_seconds": time.perf_counter() - started,
    }))


if __name__ == "__main__":
    main()
