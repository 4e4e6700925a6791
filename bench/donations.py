"""Donations recorded end to end, concurrently: confirmation → ledger → balances.

Run by bench/run.py against a PostgreSQL database already migrated with the demo loaded:
creates ``--donations`` pending demo donations on one campaign, confirms them ``--concurrent``
at a time through the same path a provider's webhook takes (``receive_event``), then checks
the totals and runs ``zbor reconcile``. Prints JSON.

The confirmations come from ``--processes`` processes with their share of the threads each,
as webhooks reach several app-server workers: threads of one Python process take turns on
its interpreter lock, which would measure the driver, not Zbor.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def confirm_all(pending: list[tuple[str, int]], threads: int, start, errors) -> None:
    """One worker process: confirm its share of the donations from ``threads`` threads."""
    import django

    django.setup()
    from django.db import connection

    from zbor.donations.events import receive_event
    from zbor.payments.base import EventType
    from zbor.payments.demo import DemoProvider

    def confirm(chunk):
        try:
            for reference, amount in chunk:
                receive_event(DemoProvider.event(reference, EventType.SUCCEEDED, amount=amount, currency="EUR"))
        except Exception as exc:  # noqa: BLE001 - reported, and the bench fails
            errors.put(repr(exc))
        finally:
            connection.close()

    workers = [threading.Thread(target=confirm, args=(pending[i::threads],)) for i in range(threads)]
    start.wait()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--donations", type=int, default=3000)
    parser.add_argument("--concurrent", type=int, default=32)
    parser.add_argument("--processes", type=int, default=8)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    import django

    django.setup()
    from django.db import connection

    from zbor.campaigns.models import Campaign
    from zbor.donations.models import Donation, DonationStatus
    from zbor.donations.reconcile import reconcile
    from zbor.donations.selectors import campaign_money

    campaign = Campaign.objects.get(slug="from-prison-to-family")
    assert campaign.currency == "EUR"
    before = campaign_money(campaign.pk, list(campaign.needs.values_list("pk", flat=True))).collected
    amounts = [500 + (n * 37) % 5000 for n in range(args.donations)]
    Donation.objects.bulk_create(
        Donation(
            campaign=campaign,
            amount=amount,
            currency=campaign.currency,
            provider="demo",
            idempotency_key=uuid.uuid4().hex,
            checkout_reference=f"demo_{uuid.uuid4().hex}",
            language="en",
        )
        for amount in amounts
    )
    pending = list(
        Donation.objects.filter(campaign=campaign, status=DonationStatus.PENDING).values_list(
            "checkout_reference", "amount"
        )
    )
    connection.close()
    context = multiprocessing.get_context("fork")
    start, errors = context.Event(), context.Queue()
    processes = [
        context.Process(
            target=confirm_all, args=(pending[i :: args.processes], args.concurrent // args.processes, start, errors)
        )
        for i in range(args.processes)
    ]
    for process in processes:
        process.start()
    time.sleep(1)  # each has set Django up
    started = time.perf_counter()
    start.set()
    for process in processes:
        process.join()
    seconds = time.perf_counter() - started
    failures = [errors.get() for _ in range(errors.qsize())] + [f"exit {p.exitcode}" for p in processes if p.exitcode]
    after = campaign_money(campaign.pk, list(campaign.needs.values_list("pk", flat=True))).collected
    started = time.perf_counter()
    report = reconcile()
    print(
        json.dumps(
            {
                "donations": len(pending),
                "concurrent": args.processes * (args.concurrent // args.processes),
                "processes": args.processes,
                "seconds": seconds,
                "per_second": len(pending) / seconds,
                "exact": after - before == sum(amount for _ref, amount in pending) and not failures,
                "still_pending": Donation.objects.filter(campaign=campaign, status=DonationStatus.PENDING).count(),
                "errors": failures[:3],
                "reconcile_clean": report.ok,
                "reconcile_seconds": time.perf_counter() - started,
            }
        )
    )


if __name__ == "__main__":
    main()
