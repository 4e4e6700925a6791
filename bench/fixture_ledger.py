"""The ledger of the benchmark fixture's donations (bench/fixture.py), as ``confirm_donation``
posts it: for each donation the group ``donation:<public id>:succeeded``, its transfers from the
provider's clearing account to the need accounts, allocated as ``zbor.donations.selectors.allocate``
does, and the accounts' running totals, kept as ``post_group`` keeps them."""

from __future__ import annotations

from typing import Any

from bench.fixture_content import CURRENCIES, PROVIDERS
from bench.fixture_state import Load, at


def allocate(
    amount: int, earmark: int | None, need_amounts: list[int], need_raised: list[int]
) -> tuple[list[tuple[int, int]], int]:
    """``zbor.donations.selectors.allocate``: an earmarked gift goes whole to its need; others fill
    the needs in order. Returns the (need index, amount) shares and what goes beyond the goal."""
    if earmark is not None:
        return [(earmark, amount)], 0
    shares: list[tuple[int, int]] = []
    left = amount
    for j, need_amount in enumerate(need_amounts):
        if left == 0:
            break
        take = min(left, max(0, need_amount - need_raised[j]))
        if take:
            shares.append((j, take))
            left -= take
    return shares, left


class Accounts:
    """The ledger accounts, created on first use. Each is a list:
    [id, kind, currency, owner_kind, owner_id, debits, credits, created ts, existed]."""

    def __init__(self, load: Load):
        from zbor.ledger.models import Account

        self.load = load
        self.by_code: dict[str, list[Any]] = {}
        for account in Account.objects.filter(
            code__in=[f"provider:{p}:{c}" for p in PROVIDERS for c, _w, _s in CURRENCIES]
        ):
            self.by_code[account.code] = [account.pk, account.kind, account.currency, "", None, 0, 0, 0.0, True]
        self.next_id = load.top[Account]

    def get(self, code: str, kind: str, currency: str, owner_id: int | None, ts: float) -> list[Any]:
        from zbor.ledger.chart import OWNER

        found = self.by_code.get(code)
        if found is None:
            self.next_id += 1
            found = self.by_code[code] = [
                self.next_id,
                kind,
                currency,
                OWNER if owner_id else "",
                owner_id,
                0,
                0,
                ts,
                False,
            ]
        return found

    def write(self) -> None:
        """The new accounts with their totals; the totals of those that existed, added to."""
        from django.db.models import F

        from zbor.ledger.models import Account

        dt, accounts = self.load.w.dt, self.by_code
        self.load.w.insert(
            Account,
            [
                "id",
                "code",
                "kind",
                "currency",
                "owner_kind",
                "owner_id",
                "debits_posted",
                "credits_posted",
                "created_at",
            ],
            sorted(
                (a[0], code, a[1], a[2], a[3], a[4], a[5], a[6], dt(at(a[7])))
                for code, a in accounts.items()
                if not a[8]
            ),
        )
        for a in accounts.values():
            if a[8] and (a[5] or a[6]):
                Account.objects.filter(pk=a[0]).update(
                    debits_posted=F("debits_posted") + a[5], credits_posted=F("credits_posted") + a[6]
                )
        self.load.summary.accounts = sum(1 for a in accounts.values() if not a[8])


class Ledger:
    """Transfer groups and transfers, buffered until ``flush``."""

    def __init__(self, load: Load):
        from zbor.ledger.models import AccountKind, Transfer, TransferGroup, TransferKind

        self.load = load
        self.accounts = Accounts(load)
        self.group_id, self.transfer_id = load.top[TransferGroup], load.top[Transfer]
        # Plain strings: the drivers adapt str, not Django's choices enums.
        self.kind_donation, self.kind_need, self.kind_unallocated, self.kind_provider = (
            str(TransferKind.DONATION),
            str(AccountKind.NEED),
            str(AccountKind.UNALLOCATED),
            str(AccountKind.PROVIDER),
        )
        self.g_rows: list[tuple] = []
        self.t_rows: list[tuple] = []

    def book(
        self,
        reference: str,
        provider: str,
        currency: str,
        amount: int,
        campaign_id: int,
        shares: list[tuple[int, int]],
        beyond: int,
        needs: list[int],
        need_raised: list[int],
        ts: float,
        when: Any,
    ) -> None:
        """One succeeded donation's group: clearing account → the needs' accounts (``shares``
        of ``needs``, added to ``need_raised``), and → the campaign's unallocated, ``beyond``."""
        account = self.accounts.get
        clearing = account(f"provider:{provider}:{currency}", self.kind_provider, currency, None, ts)
        self.group_id += 1
        key = f"{reference}:succeeded"
        credits = []
        for j, share in shares:
            credit = account(f"need:{needs[j]}", self.kind_need, currency, campaign_id, ts)
            need_raised[j] += share
            credits.append((credit, share))
        if beyond:
            code = f"campaign:{campaign_id}:unallocated"
            credits.append((account(code, self.kind_unallocated, currency, campaign_id, ts), beyond))
        for line, (credit, share) in enumerate(credits):
            credit[6] += share
            self.transfer_id += 1
            self.t_rows.append(
                (
                    self.transfer_id,
                    self.group_id,
                    clearing[0],
                    credit[0],
                    share,
                    currency,
                    self.kind_donation,
                    f"{key}#{line}",
                    when,
                )
            )
        clearing[5] += amount
        self.g_rows.append((self.group_id, key, self.kind_donation, reference, len(credits), when))

    def flush(self) -> None:
        from zbor.ledger.models import Transfer, TransferGroup

        w = self.load.w
        w.insert(TransferGroup, ["id", "key", "kind", "reference", "transfer_count", "created_at"], self.g_rows)
        w.insert(
            Transfer,
            [
                "id",
                "group_id",
                "debit_account_id",
                "credit_account_id",
                "amount",
                "currency",
                "kind",
                "key",
                "created_at",
            ],
            self.t_rows,
        )
        self.g_rows.clear()
        self.t_rows.clear()
