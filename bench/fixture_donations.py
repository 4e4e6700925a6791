"""The benchmark fixture's donations (bench/fixture.py), in the order they succeeded over the last
year: through the demo provider (as ``record_demo_donation``) or the bank (a pledge matched by a
daily imported statement), some earmarked, some with words of support an editor approved or
rejected, some with a receipt sent; each booked in the ledger (bench/fixture_ledger.py). A
campaign whose collected reaches its goal becomes funded at that donation.

The draws from the random generator happen in a fixed order: a seed makes the same data set.
"""

from __future__ import annotations

import bisect
import json
import uuid
import zlib
from datetime import date, timedelta
from typing import Any

from bench.fixture_campaigns import SCALE, Campaigns
from bench.fixture_content import BANK_ALPHABET, DAY, GIFTS, MESSAGES, PUBLIC_NAMES
from bench.fixture_ledger import Ledger, allocate
from bench.fixture_state import Load, at

MESSAGE_FIELD = json.dumps(["message_status"])
LINES_FIELD = json.dumps(["lines"])
DONATION_COLUMNS = [
    "id",
    "public_id",
    "campaign_id",
    "need_id",
    "amount",
    "currency",
    "status",
    "refunded",
    "disputed",
    "fee",
    "provider",
    "checkout_reference",
    "checkout_url",
    "payment_reference",
    "charge_reference",
    "idempotency_key",
    "public_name",
    "email",
    "receipt_sent_at",
    "receipt_number",
    "receipt_issued_at",
    "receipt_claimed_until",
    "message",
    "message_status",
    "language",
    "created_at",
    "succeeded_at",
    "instructions_sent_at",
    "monthly_gift_id",
]


def bank_reference(number: int, salt: int) -> str:
    """A valid, unique bank reference (zbor.payments.bank) for the n-th bank donation: an odd
    multiplier is a bijection modulo 32**8, so no two donations share one."""
    from zbor.payments.bank import check_symbol

    value = (number * 0x9E3779B1 + salt) % 32**8
    body = "".join(BANK_ALPHABET[(value >> (5 * i)) & 31] for i in range(8))
    return f"ZB{body}{check_symbol(body)}"


class DonationStream:
    """Makes the donations one by one, writing them (and their ledger) every ``chunk_size``."""

    def __init__(self, load: Load, campaigns: Campaigns, chunk_size: int):
        from django.conf import settings

        from zbor.donations.models import (
            BankStatement,
            BankStatementLine,
            Donation,
            DonationStatus,
            LineStatus,
            MessageStatus,
            ReceiptCounter,
        )

        self.load, self.campaigns, self.chunk_size = load, campaigns, chunk_size
        self.ledger = Ledger(load)
        top = load.top
        self.raised = [[0] * len(n) for n in campaigns.needs]
        self.collected = [0] * len(campaigns.ids)
        self.donation_id, self.line_id = top[Donation], top[BankStatementLine]
        self.statements: dict[date, list[Any]] = {}  # day -> [id, uploaded ts, lines]
        self.next_statement = top[BankStatement]
        self.bank_count = 0
        # another prefix, other references
        self.salt = load.rng.getrandbits(40) ^ zlib.crc32(load.slug_prefix.encode())
        # Plain strings: the drivers adapt str, not Django's choices enums.
        self.succeeded, self.matched = str(DonationStatus.SUCCEEDED), str(LineStatus.MATCHED)
        self.none_message = str(MessageStatus.NONE)
        self.approved_message, self.pending_message = str(MessageStatus.APPROVED), str(MessageStatus.PENDING)
        self.message_statuses = (
            (self.approved_message,) * 7 + (self.pending_message,) * 2 + (str(MessageStatus.REJECTED),)
        )
        self.receipt_cutoff = load.now_ts - settings.ZBOR_RECEIPT_EMAIL_DAYS * DAY
        # The last receipt number of each year, as zbor.donations.receipts.issue_receipt keeps it:
        # the stream goes forward in time, so numbers run in the order receipts were issued.
        self.receipt_numbers: dict[int, int] = dict(ReceiptCounter.objects.values_list("year", "last"))
        self.d_rows: list[tuple] = []
        self.l_rows: list[tuple] = []

    def run(self, count: int) -> None:
        """``count`` donations, spread evenly (with jitter) from a year ago to a minute ago, each to a
        campaign already published, picked by its popularity."""
        from zbor.donations.models import BankStatementLine
        from zbor.ledger.models import Transfer, TransferGroup

        load, camps = self.load, self.campaigns
        now_ts, random_ = load.now_ts, load.rng.random
        start_ts = max(now_ts - 365 * DAY, camps.published[0] + 60)  # no gift before the first campaign is public
        step = (now_ts - 60 - start_ts) / max(count, 1)
        published, cumulative, campaigns = camps.published, camps.cumulative, len(camps.ids)
        opened = 0
        for k in range(count):
            ts = start_ts + (k + random_()) * step
            while opened < campaigns and published[opened] <= ts:
                opened += 1
            c = min(bisect.bisect_right(cumulative, random_() * cumulative[opened - 1], 0, opened), opened - 1)
            self.donate(ts, c)
            if len(self.d_rows) >= self.chunk_size:
                self.flush()
                load.say(f"  {k + 1} donations")
        self.flush()
        summary, top = load.summary, load.top
        summary.donations = count
        summary.transfer_groups = self.ledger.group_id - top[TransferGroup]
        summary.transfers = self.ledger.transfer_id - top[Transfer]
        summary.bank_statement_lines = self.line_id - top[BankStatementLine]

    def donate(self, ts: float, c: int) -> None:
        """One succeeded donation to campaign ``c`` at ``ts``."""
        rng, camps, w = self.load.rng, self.campaigns, self.load.w
        random_, getrandbits = rng.random, rng.getrandbits
        currency = camps.currencies[c]
        amount = (rng.choice(GIFTS) if random_() < 0.85 else rng.randrange(100, 30000)) * SCALE[currency]
        needs = camps.needs[c]
        earmark = rng.randrange(len(needs)) if random_() < 0.15 else None
        shares, beyond = allocate(amount, earmark, camps.need_amounts[c], self.raised[c])
        provider = "bank" if random_() < 0.25 else "demo"
        self.donation_id += 1
        public_id = uuid.UUID(int=getrandbits(128), version=4)
        when = w.dt(at(ts))
        campaign_id = camps.ids[c]
        self.ledger.book(
            f"donation:{public_id}",
            provider,
            currency,
            amount,
            campaign_id,
            shares,
            beyond,
            needs,
            self.raised[c],
            ts,
            when,
        )
        self.collected[c] += amount
        if camps.funded[c] is None and self.collected[c] >= camps.goals[c]:
            camps.funded[c] = ts
        language = camps.second[c] if camps.second[c] and random_() < 0.3 else "en"
        public_name, message, message_status = self._words(ts, language)
        receipt, email, number = self._receipt(ts)
        if provider == "bank":
            checkout, created = self._bank_line(ts, c, amount, currency)
        else:
            checkout, created = f"demo_seed_{getrandbits(128):032x}", ts - 0.05
        self.d_rows.append(
            (
                self.donation_id,
                w.uid(public_id),
                campaign_id,
                needs[earmark] if earmark is not None else None,
                amount,
                currency,
                self.succeeded,
                0,
                0,
                0,
                provider,
                checkout,
                "",
                "",
                "",
                f"{getrandbits(128):032x}",
                public_name,
                email,
                receipt,
                number,
                receipt,
                None,
                message,
                message_status,
                language,
                w.dt(at(created)),
                when,
                None,  # instructions sent: only a pending bank pledge with an email is sent them
                None,  # one-off gifts (the fixture writes no monthly gifts: a separate table)
            )
        )

    def _words(self, ts: float, language: str) -> tuple[str, str, str]:
        """Public name, words of support and their status: they wait for an editor, who approves or
        rejects them (audited)."""
        rng = self.load.rng
        if rng.random() >= 0.08:
            return "", "", self.none_message
        public_name = rng.choice(PUBLIC_NAMES) if rng.random() < 0.7 else ""
        message = rng.choice(MESSAGES[language])
        message_status = rng.choice(self.message_statuses)
        if message_status != self.pending_message:
            approved = message_status == self.approved_message
            self.load.audit_rows.append(
                (
                    min(ts + rng.uniform(600, 2 * DAY), self.load.now_ts - 1),
                    self.load.staff,
                    "bench-staff",
                    "donation.message.approve" if approved else "donation.message.reject",
                    "donations.donation",
                    self.donation_id,
                    MESSAGE_FIELD,
                )
            )
        return public_name, message, message_status

    def _receipt(self, ts: float) -> tuple[Any, str, str | None]:
        """When a receipt was issued and sent, the email kept for it (deleted
        ZBOR_RECEIPT_EMAIL_DAYS later) and its number in its year's sequence."""
        from django.utils import timezone

        if self.load.rng.random() >= 0.15:
            return None, "", None
        year = timezone.localdate(at(ts + 30)).year
        self.receipt_numbers[year] = self.receipt_numbers.get(year, 0) + 1
        receipt = self.load.w.dt(at(ts + 30))
        email = f"donor-{self.donation_id}@example.org" if ts + 30 > self.receipt_cutoff else ""
        return receipt, email, f"{year}-{self.receipt_numbers[year]:06d}"

    def _bank_line(self, ts: float, c: int, amount: int, currency: str) -> tuple[str, float]:
        """A pledge's bank reference and when it was made; its line in that day's statement,
        imported the day after it was booked."""
        load = self.load
        self.bank_count += 1
        checkout = bank_reference(self.bank_count, self.salt)
        created = max(ts - load.rng.uniform(3600, 5 * DAY), self.campaigns.published[c] + 60)
        day = at(ts).date()
        statement = self.statements.get(day)
        if statement is None:
            self.next_statement += 1
            statement = self.statements[day] = [self.next_statement, ts - 1, 0]
        statement[2] += 1
        self.line_id += 1
        self.l_rows.append(
            (
                self.line_id,
                statement[0],
                f"camt:{load.slug_prefix}{load.seed}-{self.bank_count}",
                load.w.day(day - timedelta(days=1)),
                amount,
                currency,
                "",
                self.matched,
                self.donation_id,
                None,  # pledged: only a line whose amount differed keeps it
                "",  # reason: only a line finance returned has one
                None,  # payout: only a line of money out has one
                None,  # refund: only money out that sent a bank refund back has one
                None,  # returned line: only money out that returned a line has one
                None,  # standing order: only a month of a bank monthly gift has one
            )
        )
        return checkout, created

    def flush(self) -> None:
        from zbor.donations.models import BankStatementLine, Donation

        w = self.load.w
        w.insert(Donation, DONATION_COLUMNS, self.d_rows)
        self.ledger.flush()
        w.insert(
            BankStatementLine,
            [
                "id",
                "statement_id",
                "key",
                "booked_on",
                "amount",
                "currency",
                "text",
                "status",
                "donation_id",
                "pledged",
                "reason",
                "payout_id",
                "refund_id",
                "returned_line_id",
                "monthly_gift_id",
            ],
            self.l_rows,
        )
        self.d_rows.clear()
        self.l_rows.clear()

    def write_receipt_counters(self) -> None:
        """Each year's last receipt number, so that the next receipt issued continues the sequence."""
        from zbor.donations.models import ReceiptCounter

        for year, last in self.receipt_numbers.items():
            ReceiptCounter.objects.update_or_create(year=year, defaults={"last": last})

    def write_statements(self) -> None:
        """The daily bank statements the pledges were matched by, each with its import audited."""
        from zbor.donations.models import BankStatement

        load, dt = self.load, self.load.w.dt
        load.w.insert(
            BankStatement,
            [
                *("id", "uploaded_at", "uploaded_by_id", "lines_total", "lines_new", "lines_matched"),
                # Statements of Zbor's own CSV: no balances (zbor.payments.balances).
                *("currency", "opening_balance", "closing_balance", "closed_on", "previous_closing"),
            ],
            [
                (s[0], dt(at(s[1])), load.staff, s[2], s[2], s[2], "", None, None, None, None)
                for s in self.statements.values()
            ],
        )
        load.audit_rows += [
            (
                s[1] + 1,
                load.staff,
                "bench-staff",
                "bank_statement.import",
                "donations.bankstatement",
                s[0],
                LINES_FIELD,
            )
            for s in self.statements.values()
        ]
