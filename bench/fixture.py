"""A large, consistent data set for benchmarks: N published campaigns and M succeeded donations.

    .venv/bin/python bench/fixture.py --campaigns 10000 --donations 1000000   # the defaults

Fills the database named by DATABASE_URL (settings: DJANGO_SETTINGS_MODULE, default
``config.settings.dev``), which must be migrated. Importable: ``generate(campaigns, donations,
seed=0)`` with Django already set up (the bench runner and tests/test_bench_fixture.py call it).

Everything is what the real code paths would have written, only written in bulk:

- staff ``bench-staff`` and ``bench-reviewer`` (no usable password); each campaign was created,
  sent to review by the one and approved by the other (``CampaignApproval``, review round 1, the
  audit events ``campaign.submit``, ``campaign.approve``, ``campaign.publish``) and published;
- beneficiaries, campaigns, needs and some updates with django-parler translations: English for
  all, and a second language (ru, be or pl) for about 40%, which is the original for half of them;
- succeeded donations through the demo provider (as ``record_demo_donation``) or the bank (a
  pledge with a bank reference, matched by a daily imported statement: ``BankStatement`` and a
  matched ``BankStatementLine``, the ``bank_statement.import`` audit event), some earmarked,
  some with a public name and words of support (approved or rejected by an editor, audited, or
  still waiting), some with a receipt sent (the email kept only for the days it is kept);
- for each donation the ledger group ``donation:<public id>:succeeded`` (reference
  ``donation:<public id>``), its transfers ``<group key>#<n>`` from the provider's clearing
  account to the need accounts, allocated in time order exactly as
  ``zbor.donations.selectors.allocate`` does (unearmarked gifts fill the needs in order, then go
  beyond the goal to ``campaign:<id>:unallocated``; earmarked gifts go whole to their need), and
  the accounts' running totals (``debits_posted``, ``credits_posted``);
- a campaign whose collected reaches its goal becomes *funded* at that donation, with the
  ``campaign.funded`` audit event, as ``confirm_donation`` does.

Not made: Stripe donations, fees, refunds, disputes, payouts, notes, pending or failed
donations. Succeeded times spread over the last year; campaigns are published over the 400 to
30 days before ``now``.

Rows are written with PostgreSQL's COPY, or ``executemany`` on SQLite, with ids assigned here
(after any rows already present; PostgreSQL's sequences are moved past them), in one
transaction; the ledger tables only get INSERTs, which their append-only triggers allow. On
PostgreSQL, from 10,000 donations on, the donation and ledger tables' secondary indexes, unique
constraints and foreign keys are dropped for the load and made again, identical, before the
same transaction commits (then ANALYZE); on SQLite the connection's page cache is raised to
512 MB while it loads. ``zbor reconcile`` is clean afterwards.

This module runs the steps in order; each lives in a module of its own: the words and amounts
drawn from (bench/fixture_content.py), the campaigns (bench/fixture_campaigns.py), the donations
(bench/fixture_donations.py) and their ledger (bench/fixture_ledger.py), the bulk writing
(bench/fixture_db.py), and what the steps share (bench/fixture_state.py).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.fixture_campaigns import make_campaigns  # noqa: E402
from bench.fixture_db import PostgresBulkLoad, Writer, large_sqlite_cache, next_ids  # noqa: E402
from bench.fixture_donations import DonationStream  # noqa: E402
from bench.fixture_state import FixtureSummary, Load, at  # noqa: E402

__all__ = ["FixtureSummary", "generate", "main"]


def _models() -> list:
    """Every model the fixture writes rows of."""
    from zbor.accounts.models import AuditEvent
    from zbor.campaigns.models import Beneficiary, Campaign, CampaignApproval, Need, Update
    from zbor.donations.models import BankStatement, BankStatementLine, Donation
    from zbor.ledger.models import Account, Transfer, TransferGroup

    return [
        Beneficiary,
        Beneficiary._parler_meta.root_model,
        Campaign,
        Campaign._parler_meta.root_model,
        Need,
        Need._parler_meta.root_model,
        Update,
        Update._parler_meta.root_model,
        CampaignApproval,
        AuditEvent,
        Donation,
        BankStatement,
        BankStatementLine,
        Account,
        TransferGroup,
        Transfer,
    ]


def _bulk_loader(w: Writer, donations: int) -> PostgresBulkLoad | None:
    """On PostgreSQL, from 10,000 donations on, the donation and ledger tables' indexes and
    constraints dropped for the load (``restore`` makes them again)."""
    if not (w.postgres and donations >= 10_000):
        return None
    from zbor.donations.models import BankStatementLine, Donation
    from zbor.ledger.models import Transfer, TransferGroup

    # Before any row is written: PostgreSQL refuses to alter a table with deferred
    # foreign key checks pending.
    loader = PostgresBulkLoad(
        w.connection, [m._meta.db_table for m in (Donation, BankStatementLine, TransferGroup, Transfer)]
    )
    loader.drop()
    return loader


def _bench_staff() -> tuple[int, int]:
    """The ids of ``bench-staff`` and ``bench-reviewer`` (made, with no usable password, if missing)."""
    from django.contrib.auth import get_user_model

    User = get_user_model()
    people = {}
    for username in ("bench-staff", "bench-reviewer"):
        user, created = User.objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        people[username] = user.pk
    return people["bench-staff"], people["bench-reviewer"]


def _write_audit(load: Load) -> None:
    """Every audit event the steps collected, in time order."""
    from zbor.accounts.models import AuditEvent

    load.audit_rows.sort(key=lambda row: row[0])
    dt = load.w.dt
    load.w.insert(
        AuditEvent,
        ["id", "at", "actor_id", "actor_label", "action", "object_type", "object_id", "fields"],
        [
            (load.top[AuditEvent] + n + 1, dt(at(ts)), actor, label, action, kind, str(pk), fields)
            for n, (ts, actor, label, action, kind, pk, fields) in enumerate(load.audit_rows)
        ],
    )


def generate(
    campaigns: int = 10_000,
    donations: int = 1_000_000,
    *,
    seed: int = 0,
    now: datetime | None = None,
    slug_prefix: str = "bench-",
    chunk_size: int = 50_000,
    progress: Callable[[str], None] | None = None,
) -> FixtureSummary:
    """Write ``campaigns`` published campaigns and ``donations`` succeeded donations, with their
    ledger, into the default database (migrated; Django set up). Deterministic for a seed and
    ``now``. Refuses to run if campaigns with ``slug_prefix`` exist already."""
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from zbor.campaigns.models import Campaign

    if campaigns < 1 or donations < 0:
        raise ValueError("at least one campaign, and no negative number of donations")
    started = time.perf_counter()
    say = progress or (lambda message: None)
    now = (now or datetime.now(UTC)).astimezone(UTC)
    summary = FixtureSummary()
    w = Writer(connection)
    models = _models()

    with large_sqlite_cache(connection), transaction.atomic():
        if Campaign.objects.filter(slug__startswith=slug_prefix).exists():
            raise RuntimeError(
                f"campaigns named {slug_prefix}… exist already: use an empty database or another slug_prefix"
            )
        loader = _bulk_loader(w, donations)
        staff, reviewer = _bench_staff()
        load = Load(
            w, random.Random(seed), now.timestamp(), seed, slug_prefix, next_ids(models), staff, reviewer, summary, say
        )
        say(f"{campaigns} campaigns")
        made = make_campaigns(load, campaigns)
        say(f"{donations} donations")
        stream = DonationStream(load, made, chunk_size)
        stream.run(donations)
        # What the stream decided: campaign status, account totals, statements, audit.
        say("campaigns, accounts, statements, audit log")
        made.write(load)
        stream.ledger.accounts.write()
        stream.write_statements()
        stream.write_receipt_counters()
        _write_audit(load)
        if loader is not None:
            say("indexes and constraints")
            loader.restore()
        if w.postgres:
            with connection.cursor() as cursor:
                for statement_sql in connection.ops.sequence_reset_sql(no_style(), models):
                    cursor.execute(statement_sql)
    if w.postgres:
        say("analyze")
        with connection.cursor() as cursor:
            for model in models:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    summary.rows = w.rows
    summary.seconds = time.perf_counter() - started
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--campaigns", type=int, default=10_000)
    parser.add_argument("--donations", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--slug-prefix", default="bench-")
    parser.add_argument("--chunk-size", type=int, default=50_000)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    import django

    django.setup()
    from django.db import connection

    def progress(message: str) -> None:
        if not args.quiet:
            print(f"[{time.perf_counter() - began:7.1f}s] {message}", flush=True)

    began = time.perf_counter()
    summary = generate(
        args.campaigns,
        args.donations,
        seed=args.seed,
        slug_prefix=args.slug_prefix,
        chunk_size=args.chunk_size,
        progress=progress,
    )
    print(
        f"{connection.vendor}: {summary.campaigns} campaigns ({summary.funded} funded), {summary.needs} needs, "
        f"{summary.donations} donations, {summary.transfer_groups} transfer groups, {summary.transfers} transfers, "
        f"{summary.accounts} accounts, {summary.bank_statement_lines} bank statement lines; "
        f"{summary.rows} rows in {summary.seconds:.1f}s"
    )


if __name__ == "__main__":
    main()
