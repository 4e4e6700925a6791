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
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import random
import sys
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DAY = 86400.0
LANGUAGES = ("en", "ru", "be", "pl")
OTHER_LANGUAGES = ("ru", "be", "pl")
CATEGORIES = ("political_prisoner", "family", "relocation", "medical", "legal_aid", "other")
# (currency, weight, scale of amounts: PLN gifts are about four times the euro figures)
CURRENCIES = (("EUR", 80, 1), ("PLN", 12, 4), ("USD", 8, 1))
PROVIDERS = ("demo", "bank")
GIFTS = (500, 1000, 1000, 1500, 2000, 2500, 2500, 3000, 5000, 5000, 7500, 10000, 20000, 50000)
NEED_AMOUNTS = (30000, 50000, 80000, 100000, 150000, 200000, 300000, 500000)
BANK_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

NAMES = (
    {"en": "Pavel", "ru": "Павел", "be": "Павел", "pl": "Paweł"},
    {"en": "Olga", "ru": "Ольга", "be": "Вольга", "pl": "Olga"},
    {"en": "Andrei", "ru": "Андрей", "be": "Андрэй", "pl": "Andrzej"},
    {"en": "Maria", "ru": "Мария", "be": "Марыя", "pl": "Maria"},
    {"en": "Ihar", "ru": "Игорь", "be": "Ігар", "pl": "Igor"},
    {"en": "Natalia", "ru": "Наталья", "be": "Наталля", "pl": "Natalia"},
    {"en": "Siarhei", "ru": "Сергей", "be": "Сяргей", "pl": "Siergiej"},
    {"en": "Alena", "ru": "Елена", "be": "Алена", "pl": "Helena"},
    {"en": "Dzmitry", "ru": "Дмитрий", "be": "Дзмітрый", "pl": "Dmitrij"},
    {"en": "Hanna", "ru": "Анна", "be": "Ганна", "pl": "Anna"},
    {"en": "Mikalai", "ru": "Николай", "be": "Мікалай", "pl": "Mikołaj"},
    {"en": "Volha", "ru": "Ольга", "be": "Вольга", "pl": "Olga"},
)
INITIALS = (
    {"en": "K.", "ru": "К.", "be": "К.", "pl": "K."},
    {"en": "S.", "ru": "С.", "be": "С.", "pl": "S."},
    {"en": "M.", "ru": "М.", "be": "М.", "pl": "M."},
    {"en": "B.", "ru": "Б.", "be": "Б.", "pl": "B."},
)
TITLES = (
    {
        "en": "{name}: a new start after prison",
        "ru": "{name}: новая жизнь после тюрьмы",
        "be": "{name}: новае жыццё пасля турмы",
        "pl": "{name}: nowy start po więzieniu",
    },
    {
        "en": "{name}: bringing the family together",
        "ru": "{name}: воссоединить семью",
        "be": "{name}: сабраць сям'ю разам",
        "pl": "{name}: połączyć rodzinę",
    },
    {
        "en": "{name}: a lawyer for the appeal",
        "ru": "{name}: адвокат для апелляции",
        "be": "{name}: адвакат для апеляцыі",
        "pl": "{name}: adwokat do apelacji",
    },
    {
        "en": "{name}: treatment after the colony",
        "ru": "{name}: лечение после колонии",
        "be": "{name}: лячэнне пасля калоніі",
        "pl": "{name}: leczenie po kolonii karnej",
    },
    {
        "en": "{name}: parcels and letters",
        "ru": "{name}: передачи и письма",
        "be": "{name}: перадачы і лісты",
        "pl": "{name}: paczki i listy",
    },
)
SUMMARIES = (
    {
        "en": "Released after years behind bars, {name} had to leave the country and needs help to settle.",
        "ru": "После лет заключения {name} пришлось уехать из страны, и теперь нужна помощь, чтобы обустроиться.",
        "be": "Пасля гадоў зняволення {name} давялося з'ехаць з краіны, і цяпер патрэбна дапамога, каб уладкавацца.",
        "pl": "Po latach za kratami {name} musi wyjechać z kraju i potrzebuje pomocy, by zacząć od nowa.",
    },
    {
        "en": "The family of a political prisoner needs rent, food and school things this winter.",
        "ru": "Семье политзаключённого этой зимой нужны деньги на аренду, еду и школьные вещи.",
        "be": "Сям'і палітвязня гэтай зімой патрэбныя грошы на арэнду, ежу і школьныя рэчы.",
        "pl": "Rodzina więźnia politycznego potrzebuje tej zimy pieniędzy na czynsz, jedzenie i rzeczy do szkoły.",
    },
    {
        "en": "Medical care that was refused in the colony, now possible abroad.",
        "ru": "Лечение, в котором отказывали в колонии, теперь возможно за границей.",
        "be": "Лячэнне, у якім адмаўлялі ў калоніі, цяпер магчымае за мяжой.",
        "pl": "Leczenie, którego odmawiano w kolonii karnej, jest teraz możliwe za granicą.",
    },
)
PARAGRAPHS = (
    {
        "en": "{name} grew up in a small town and worked at a furniture workshop before the events of 2020.",
        "ru": "{name} вырос в небольшом городе и до событий 2020 года работал в столярной мастерской.",
        "be": "{name} вырас у невялікім горадзе і да падзей 2020 года працаваў у сталярнай майстэрні.",
        "pl": "{name} dorastał w małym mieście i przed wydarzeniami 2020 roku pracował w stolarni.",
    },
    {
        "en": "After the election, {name} went to a peaceful protest with neighbours and was detained a week later.",
        "ru": "После выборов {name} вышел с соседями на мирный протест и через неделю был задержан.",
        "be": "Пасля выбараў {name} выйшаў з суседзямі на мірны пратэст і праз тыдзень быў затрыманы.",
        "pl": "Po wyborach {name} wyszedł z sąsiadami na pokojowy protest i tydzień później został zatrzymany.",
    },
    {
        "en": "The court gave three years in a penal colony for **taking part in mass riots**.",
        "ru": "Суд дал три года колонии за **участие в массовых беспорядках**.",
        "be": "Суд даў тры гады калоніі за **ўдзел у масавых беспарадках**.",
        "pl": "Sąd skazał na trzy lata kolonii karnej za **udział w masowych zamieszkach**.",
    },
    {
        "en": "In the colony political prisoners are treated worse than anyone else, and health suffers.",
        "ru": "В колонии с политическими обращаются хуже, чем с остальными, и здоровье страдает.",
        "be": "У калоніі з палітычнымі абыходзяцца горш, чым з астатнімі, і здароўе пакутуе.",
        "pl": "W kolonii więźniowie polityczni są traktowani gorzej niż inni i cierpi na tym zdrowie.",
    },
    {
        "en": "After release the pressure did not stop, and the family had to leave for Poland.",
        "ru": "После освобождения давление не прекратилось, и семье пришлось уехать в Польшу.",
        "be": "Пасля вызвалення ціск не спыніўся, і сям'і давялося з'ехаць у Польшчу.",
        "pl": "Po wyjściu na wolność nacisk nie ustał i rodzina musiała wyjechać do Polski.",
    },
    {
        "en": "Your help pays for the first months: a room, documents, a doctor and a lawyer.",
        "ru": "Ваша помощь оплатит первые месяцы: комнату, документы, врача и юриста.",
        "be": "Ваша дапамога аплаціць першыя месяцы: пакой, дакументы, лекара і юрыста.",
        "pl": "Twoja pomoc opłaci pierwsze miesiące: pokój, dokumenty, lekarza i prawnika.",
    },
)
LOCATIONS = (
    {"en": "Poland", "ru": "Польша", "be": "Польшча", "pl": "Polska"},
    {"en": "Lithuania", "ru": "Литва", "be": "Літва", "pl": "Litwa"},
    {"en": "Georgia", "ru": "Грузия", "be": "Грузія", "pl": "Gruzja"},
    {"en": "", "ru": "", "be": "", "pl": ""},
)
NEEDS = (
    {
        "en": "Rent for the first three months",
        "ru": "Аренда на первые три месяца",
        "be": "Арэнда на першыя тры месяцы",
        "pl": "Czynsz za pierwsze trzy miesiące",
    },
    {"en": "Lawyer's fees", "ru": "Услуги адвоката", "be": "Паслугі адваката", "pl": "Honorarium adwokata"},
    {"en": "Medical treatment", "ru": "Лечение", "be": "Лячэнне", "pl": "Leczenie"},
    {"en": "Visa and documents", "ru": "Виза и документы", "be": "Віза і дакументы", "pl": "Wiza i dokumenty"},
    {"en": "Warm clothes", "ru": "Тёплая одежда", "be": "Цёплае адзенне", "pl": "Ciepłe ubrania"},
    {"en": "Parcels to the colony", "ru": "Передачи в колонию", "be": "Перадачы ў калонію", "pl": "Paczki do kolonii"},
    {"en": "Travel to join the family", "ru": "Дорога к семье", "be": "Дарога да сям'і", "pl": "Podróż do rodziny"},
    {"en": "Language course", "ru": "Языковые курсы", "be": "Моўныя курсы", "pl": "Kurs językowy"},
)
UPDATES = (
    {
        "en": ("Thank you", "The first need is covered. Thank you for your support."),
        "ru": ("Спасибо", "Первая потребность закрыта. Спасибо за поддержку."),
        "be": ("Дзякуй", "Першая патрэба закрытая. Дзякуй за падтрымку."),
        "pl": ("Dziękujemy", "Pierwsza potrzeba jest pokryta. Dziękujemy za wsparcie."),
    },
    {
        "en": ("News from the lawyer", "The appeal has been filed; we will write when there is a date."),
        "ru": ("Новости от адвоката", "Апелляция подана; напишем, когда будет дата."),
        "be": ("Навіны ад адваката", "Апеляцыя пададзеная; напішам, калі будзе дата."),
        "pl": ("Wieści od adwokata", "Apelacja została złożona; napiszemy, gdy będzie termin."),
    },
)
MESSAGES = {
    "en": ("Stay strong!", "You are not alone.", "With love from Vilnius.", "Hold on, freedom is near."),
    "ru": ("Держитесь!", "Вы не одни.", "С любовью из Вильнюса.", "Свобода близко."),
    "be": ("Трымайцеся!", "Вы не адны.", "З любоўю з Вільні.", "Жыве Беларусь!"),
    "pl": ("Trzymajcie się!", "Nie jesteście sami.", "Z pozdrowieniami z Warszawy.", "Wolność jest blisko."),
}
PUBLIC_NAMES = ("Anna", "Tomasz", "Ales", "Kasia", "Jan", "Ira", "Maks", "Lena", "Piotr", "Uladzimir")


@dataclass
class FixtureSummary:
    campaigns: int = 0
    funded: int = 0
    needs: int = 0
    donations: int = 0
    transfer_groups: int = 0
    transfers: int = 0
    accounts: int = 0
    bank_statement_lines: int = 0
    rows: int = 0
    seconds: float = 0.0
    slugs: list[str] = field(default_factory=list, repr=False)


class _Writer:
    """Bulk INSERTs: PostgreSQL's COPY, or ``executemany`` on other databases."""

    def __init__(self, connection):
        self.connection = connection
        self.postgres = connection.vendor == "postgresql"
        self.rows = 0

    def dt(self, value: datetime) -> Any:
        # SQLite keeps datetimes as naive UTC text, the way Django writes them.
        return value if self.postgres else value.replace(tzinfo=None).isoformat(" ")

    def day(self, value: date) -> Any:
        return value if self.postgres else value.isoformat()

    def uid(self, value: uuid.UUID) -> Any:
        return value if self.postgres else value.hex

    def insert(self, model, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        missing = {f.column for f in model._meta.concrete_fields} - set(columns)
        if missing:
            # A field added to the model since: give it a value here, as the code paths would.
            raise RuntimeError(f"bench/fixture.py writes no {sorted(missing)} for {model._meta.label}")
        quote = self.connection.ops.quote_name
        table = quote(model._meta.db_table)
        names = ", ".join(quote(c) for c in columns)
        rows = list(rows)
        if not rows:
            return
        with self.connection.cursor() as cursor:
            raw = cursor.cursor
            if self.postgres:
                with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})", rows)
        self.rows += len(rows)


def _bank_reference(number: int, salt: int) -> str:
    """A valid, unique bank reference (zbor.payments.bank) for the n-th bank donation: an odd
    multiplier is a bijection modulo 32**8, so no two donations share one."""
    from zbor.payments.bank import check_symbol

    value = (number * 0x9E3779B1 + salt) % 32**8
    body = "".join(BANK_ALPHABET[(value >> (5 * i)) & 31] for i in range(8))
    return f"ZB{body}{check_symbol(body)}"


class _PostgresBulkLoad:
    """For a bulk load into PostgreSQL tables: their foreign keys, unique constraints and
    secondary indexes are dropped, then made again once the rows are in, inside the caller's
    transaction (nobody else sees the tables without them; a failure rolls it all back).

    Building an index once from sorted rows, and checking a foreign key with one join, is many
    times faster than maintaining them row by row (with random keys such as UUIDs) and queueing
    a deferred foreign key check for every row. Primary keys stay.
    """

    def __init__(self, connection, tables: Sequence[str]):
        self.connection = connection
        self.tables = list(tables)
        self.constraints: list[tuple[str, str, str]] = []  # (table, name, definition)
        self.indexes: list[tuple[str, str]] = []  # (name, definition)

    def drop(self) -> None:
        quote = self.connection.ops.quote_name
        with self.connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            cursor.execute(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('u', 'f') ORDER BY contype DESC, conname",
                [self.tables],
            )
            self.constraints = list(cursor.fetchall())
            for table, name, _definition in self.constraints:
                cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
            cursor.execute(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
                "WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary ORDER BY 1",
                [self.tables],
            )
            self.indexes = list(cursor.fetchall())
            for name, _definition in self.indexes:
                cursor.execute(f"DROP INDEX {quote(name)}")

    def restore(self) -> None:
        quote = self.connection.ops.quote_name
        with self.connection.cursor() as cursor:
            for _name, definition in self.indexes:
                cursor.execute(definition)
            # Unique constraints first (ORDER BY contype DESC put them first), then foreign keys.
            for table, name, definition in self.constraints:
                cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")


@contextmanager
def _large_sqlite_cache(connection) -> Iterator[None]:
    """On SQLite, a large page cache for this connection while it loads, put back afterwards.
    With the default (2 MB), every insert into an index with random keys (UUIDs) reads and
    writes pages through the WAL; with a large one the indexes stay in memory."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA cache_size = -524288")  # in KiB: up to 512 MB
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {before}")


def _next_ids(models) -> dict[Any, int]:
    from django.db.models import Max

    return {m: m.objects.aggregate(top=Max("pk"))["top"] or 0 for m in models}


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
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.db.models import F

    from zbor.accounts.models import AuditEvent
    from zbor.campaigns.models import Beneficiary, Campaign, CampaignApproval, Need, Status, Update
    from zbor.donations.models import (
        BankStatement,
        BankStatementLine,
        Donation,
        DonationStatus,
        LineStatus,
        MessageStatus,
    )
    from zbor.ledger.chart import OWNER
    from zbor.ledger.models import Account, AccountKind, Transfer, TransferGroup, TransferKind

    if campaigns < 1 or donations < 0:
        raise ValueError("at least one campaign, and no negative number of donations")
    started = time.perf_counter()
    say = progress or (lambda message: None)
    rng = random.Random(seed)
    now = (now or datetime.now(UTC)).astimezone(UTC)
    now_ts = now.timestamp()
    summary = FixtureSummary()
    w = _Writer(connection)
    dt, uid = w.dt, w.uid
    utc = UTC

    def at(ts: float) -> datetime:
        return datetime.fromtimestamp(ts, utc)

    CampaignT = Campaign._parler_meta.root_model
    BeneficiaryT = Beneficiary._parler_meta.root_model
    NeedT = Need._parler_meta.root_model
    UpdateT = Update._parler_meta.root_model
    models = [
        Beneficiary,
        BeneficiaryT,
        Campaign,
        CampaignT,
        Need,
        NeedT,
        Update,
        UpdateT,
        CampaignApproval,
        AuditEvent,
        Donation,
        BankStatement,
        BankStatementLine,
        Account,
        TransferGroup,
        Transfer,
    ]

    with _large_sqlite_cache(connection), transaction.atomic():
        if Campaign.objects.filter(slug__startswith=slug_prefix).exists():
            raise RuntimeError(
                f"campaigns named {slug_prefix}… exist already: use an empty database or another slug_prefix"
            )
        loader = None
        if w.postgres and donations >= 10_000:
            # Before any row is written: PostgreSQL refuses to alter a table with deferred
            # foreign key checks pending.
            loader = _PostgresBulkLoad(
                connection, [m._meta.db_table for m in (Donation, BankStatementLine, TransferGroup, Transfer)]
            )
            loader.drop()
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
        staff, reviewer = people["bench-staff"], people["bench-reviewer"]
        top = _next_ids(models)

        # ---- campaigns, in order of publication -------------------------------------------
        say(f"{campaigns} campaigns")
        pub_start, pub_span = now_ts - 400 * DAY, 370 * DAY
        currency_pick = [c for c, weight, _s in CURRENCIES for _ in range(weight)]
        scale = {c: s for c, _w, s in CURRENCIES}
        camp_id: list[int] = []
        camp_cur: list[str] = []
        camp_pub: list[float] = []
        camp_needs: list[list[int]] = []
        camp_need_amounts: list[list[int]] = []
        camp_goal: list[int] = []
        camp_second: list[str | None] = []
        camp_funded: list[float | None] = [None] * campaigns
        cumulative: list[float] = []
        weight_total = 0.0
        rows_b, rows_bt, rows_ct, rows_n, rows_nt, rows_u, rows_ut, rows_a = [], [], [], [], [], [], [], []
        campaign_rows: list[list[Any]] = []
        # (time, actor id, actor label, action, object type, object id, fields)
        audit_rows: list[tuple[float, int | None, str, str, str, int, str]] = []
        status_field, lines_field, message_field = (
            json.dumps(["status"]),
            json.dumps(["lines"]),
            json.dumps(["message_status"]),
        )
        need_id = top[Need]
        ids = {m: top[m] for m in (BeneficiaryT, CampaignT, NeedT, Update, UpdateT, CampaignApproval)}
        for i in range(campaigns):
            cid, bid = top[Campaign] + i + 1, top[Beneficiary] + i + 1
            published = pub_start + (i + rng.random()) * pub_span / campaigns
            created = published - rng.uniform(2, 20) * DAY
            submitted = published - rng.uniform(0.05, 1.5) * DAY
            currency = rng.choice(currency_pick)
            second = rng.choice(OTHER_LANGUAGES) if rng.random() < 0.4 else None
            original = second if second and rng.random() < 0.5 else "en"
            languages = ("en", second) if second else ("en",)
            name = rng.choice(NAMES)
            initial = rng.choice(INITIALS)
            title, summary_text, location = rng.choice(TITLES), rng.choice(SUMMARIES), rng.choice(LOCATIONS)
            paragraphs = rng.sample(PARAGRAPHS, rng.randint(3, len(PARAGRAPHS)))
            slug = f"{slug_prefix}{i:05d}"
            if len(summary.slugs) < 1000:
                summary.slugs.append(slug)
            rows_b.append(
                (bid, f"B-{slug}"[:40], rng.random() < 0.5, True, False, "", "", "", None, dt(at(created - 3600)))
            )
            for lang in languages:
                ids[BeneficiaryT] += 1
                rows_bt.append((ids[BeneficiaryT], lang, f"{name[lang]} {initial[lang]}", bid))
                full = f"{name[lang]} {initial[lang]}"
                ids[CampaignT] += 1
                story = "\n\n".join(p[lang].format(name=name[lang]) for p in paragraphs)
                rows_ct.append(
                    (
                        ids[CampaignT],
                        lang,
                        title[lang].format(name=full),
                        summary_text[lang].format(name=name[lang]),
                        location[lang],
                        story,
                        "",
                        cid,
                    )
                )
            campaign_rows.append(
                [
                    cid,
                    slug,
                    bid,
                    rng.choice(CATEGORIES),
                    str(Status.PUBLISHED),
                    currency,
                    original,
                    "",
                    created,
                    published,
                    published,
                    None,
                    staff,
                    1,
                    None,
                ]
            )
            rows_a.append((ids[CampaignApproval] + 1, cid, 1, reviewer, True, dt(at(published))))
            ids[CampaignApproval] += 1
            audit_rows += [
                (submitted, staff, "bench-staff", "campaign.submit", "campaigns.campaign", cid, status_field),
                (
                    published - 0.01,
                    reviewer,
                    "bench-reviewer",
                    "campaign.approve",
                    "campaigns.campaign",
                    cid,
                    status_field,
                ),
                (published, reviewer, "bench-reviewer", "campaign.publish", "campaigns.campaign", cid, status_field),
            ]
            need_ids, amounts = [], []
            for position, description in enumerate(rng.sample(NEEDS, rng.choice((1, 1, 2, 2, 2, 3, 3, 4)))):
                need_id += 1
                amount = rng.choice(NEED_AMOUNTS) * scale[currency]
                rows_n.append((need_id, cid, position, amount, None))
                for lang in languages:
                    ids[NeedT] += 1
                    rows_nt.append((ids[NeedT], lang, description[lang], need_id))
                need_ids.append(need_id)
                amounts.append(amount)
            if rng.random() < 0.2:
                ids[Update] += 1
                published_on = at(rng.uniform(published, now_ts)).date()
                rows_u.append((ids[Update], cid, w.day(published_on), None))
                update = rng.choice(UPDATES)
                for lang in languages:
                    ids[UpdateT] += 1
                    rows_ut.append((ids[UpdateT], lang, update[lang][0], update[lang][1], ids[Update]))
            camp_id.append(cid)
            camp_cur.append(currency)
            camp_pub.append(published)
            camp_needs.append(need_ids)
            camp_need_amounts.append(amounts)
            camp_goal.append(sum(amounts))
            camp_second.append(second)
            weight_total += rng.lognormvariate(0, 1.2)
            cumulative.append(weight_total)

        w.insert(
            Beneficiary,
            [
                "id",
                "reference",
                "name_is_pseudonym",
                "consent_recorded",
                "at_risk",
                "real_name_secret",
                "contacts_secret",
                "verification_notes_secret",
                "private_purged_at",
                "created_at",
            ],
            rows_b,
        )
        w.insert(BeneficiaryT, ["id", "language_code", "display_name", "master_id"], rows_bt)
        w.insert(
            CampaignT,
            ["id", "language_code", "title", "summary", "location", "story", "cover_alt", "master_id"],
            rows_ct,
        )
        # replaces_id / revision_of_id: only revisions (zbor.campaigns.revisions) have them.
        w.insert(Need, ["id", "campaign_id", "position", "amount", "replaces_id"], rows_n)
        w.insert(NeedT, ["id", "language_code", "description", "master_id"], rows_nt)
        w.insert(Update, ["id", "campaign_id", "published_on", "replaces_id"], rows_u)
        w.insert(UpdateT, ["id", "language_code", "title", "body", "master_id"], rows_ut)
        w.insert(
            CampaignApproval, ["id", "campaign_id", "review_round", "approver_id", "as_admin", "created_at"], rows_a
        )
        summary.campaigns, summary.needs = campaigns, len(rows_n)
        del rows_b, rows_bt, rows_ct, rows_n, rows_nt, rows_u, rows_ut, rows_a

        # ---- accounts: created on first use, totals kept as post_group keeps them -----------
        # code -> [id, kind, currency, owner_kind, owner_id, debits, credits, created ts, existed]
        accounts: dict[str, list[Any]] = {}
        for account in Account.objects.filter(
            code__in=[f"provider:{p}:{c}" for p in PROVIDERS for c, _w, _s in CURRENCIES]
        ):
            accounts[account.code] = [account.pk, account.kind, account.currency, "", None, 0, 0, 0.0, True]
        next_account = [top[Account]]

        def account(code: str, kind: str, currency: str, owner_id: int | None, ts: float) -> list[Any]:
            found = accounts.get(code)
            if found is None:
                next_account[0] += 1
                found = accounts[code] = [
                    next_account[0],
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

        # ---- donations, in the order they succeeded -----------------------------------------
        say(f"{donations} donations")
        start_ts = max(now_ts - 365 * DAY, camp_pub[0] + 60)  # no gift before the first campaign is public
        step = (now_ts - 60 - start_ts) / max(donations, 1)
        raised = [[0] * len(n) for n in camp_needs]
        collected = [0] * campaigns
        opened = 0
        donation_id, group_id, transfer_id, line_id = (
            top[Donation],
            top[TransferGroup],
            top[Transfer],
            top[BankStatementLine],
        )
        statements: dict[date, list[Any]] = {}  # day -> [id, uploaded ts, lines]
        next_statement = top[BankStatement]
        bank_count = 0
        salt = rng.getrandbits(40) ^ zlib.crc32(slug_prefix.encode())  # another prefix, other references
        # Plain strings: the drivers adapt str, not Django's choices enums.
        succeeded, matched, none_message = (
            str(DonationStatus.SUCCEEDED),
            str(LineStatus.MATCHED),
            str(MessageStatus.NONE),
        )
        approved_message, pending_message = str(MessageStatus.APPROVED), str(MessageStatus.PENDING)
        message_statuses = (approved_message,) * 7 + (pending_message,) * 2 + (str(MessageStatus.REJECTED),)
        approve_action, reject_action = "donation.message.approve", "donation.message.reject"
        receipt_cutoff = now_ts - settings.ZBOR_RECEIPT_EMAIL_DAYS * DAY
        kind_donation, kind_need, kind_unallocated, kind_provider = (
            str(TransferKind.DONATION),
            str(AccountKind.NEED),
            str(AccountKind.UNALLOCATED),
            str(AccountKind.PROVIDER),
        )
        d_rows: list[tuple] = []
        g_rows: list[tuple] = []
        t_rows: list[tuple] = []
        l_rows: list[tuple] = []
        random_, getrandbits, randrange, choice = rng.random, rng.getrandbits, rng.randrange, rng.choice
        UUID = uuid.UUID

        def flush() -> None:
            w.insert(
                Donation,
                [
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
                    "receipt_claimed_until",
                    "message",
                    "message_status",
                    "language",
                    "created_at",
                    "succeeded_at",
                ],
                d_rows,
            )
            w.insert(TransferGroup, ["id", "key", "kind", "reference", "transfer_count", "created_at"], g_rows)
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
                t_rows,
            )
            w.insert(
                BankStatementLine,
                ["id", "statement_id", "key", "booked_on", "amount", "currency", "text", "status", "donation_id"],
                l_rows,
            )
            for rows in (d_rows, g_rows, t_rows, l_rows):
                rows.clear()

        for k in range(donations):
            ts = start_ts + (k + random_()) * step
            while opened < campaigns and camp_pub[opened] <= ts:
                opened += 1
            c = min(bisect.bisect_right(cumulative, random_() * cumulative[opened - 1], 0, opened), opened - 1)
            currency = camp_cur[c]
            amount = (choice(GIFTS) if random_() < 0.85 else randrange(100, 30000)) * scale[currency]
            needs, need_amounts, need_raised = camp_needs[c], camp_need_amounts[c], raised[c]
            earmark = randrange(len(needs)) if random_() < 0.15 else None
            # zbor.donations.selectors.allocate
            shares: list[tuple[int, int]] = []
            beyond = 0
            if earmark is not None:
                shares.append((earmark, amount))
            else:
                left = amount
                for j, need_amount in enumerate(need_amounts):
                    if left == 0:
                        break
                    take = min(left, max(0, need_amount - need_raised[j]))
                    if take:
                        shares.append((j, take))
                        left -= take
                beyond = left
            provider = "bank" if random_() < 0.25 else "demo"
            clearing = account(f"provider:{provider}:{currency}", kind_provider, currency, None, ts)
            donation_id += 1
            group_id += 1
            public_id = UUID(int=getrandbits(128), version=4)
            reference = f"donation:{public_id}"
            key = f"{reference}:succeeded"
            when = dt(at(ts))
            lines = 0
            for j, share in shares:
                credit = account(f"need:{needs[j]}", kind_need, currency, camp_id[c], ts)
                need_raised[j] += share
                credit[6] += share
                transfer_id += 1
                t_rows.append(
                    (
                        transfer_id,
                        group_id,
                        clearing[0],
                        credit[0],
                        share,
                        currency,
                        kind_donation,
                        f"{key}#{lines}",
                        when,
                    )
                )
                lines += 1
            if beyond:
                credit = account(f"campaign:{camp_id[c]}:unallocated", kind_unallocated, currency, camp_id[c], ts)
                credit[6] += beyond
                transfer_id += 1
                t_rows.append(
                    (
                        transfer_id,
                        group_id,
                        clearing[0],
                        credit[0],
                        beyond,
                        currency,
                        kind_donation,
                        f"{key}#{lines}",
                        when,
                    )
                )
                lines += 1
            clearing[5] += amount
            collected[c] += amount
            if camp_funded[c] is None and collected[c] >= camp_goal[c]:
                camp_funded[c] = ts
            g_rows.append((group_id, key, kind_donation, reference, lines, when))

            language = camp_second[c] if camp_second[c] and random_() < 0.3 else "en"
            public_name = message = email = ""
            message_status = none_message
            if random_() < 0.08:
                # Words of support wait for an editor, who approves or rejects them (audited).
                public_name = choice(PUBLIC_NAMES) if random_() < 0.7 else ""
                message = choice(MESSAGES[language])
                message_status = choice(message_statuses)
                if message_status != pending_message:
                    audit_rows.append(
                        (
                            min(ts + rng.uniform(600, 2 * DAY), now_ts - 1),
                            staff,
                            "bench-staff",
                            approve_action if message_status == approved_message else reject_action,
                            "donations.donation",
                            donation_id,
                            message_field,
                        )
                    )
            receipt = None
            if random_() < 0.15:
                # A receipt was sent; its email is deleted ZBOR_RECEIPT_EMAIL_DAYS later.
                receipt = dt(at(ts + 30))
                if ts + 30 > receipt_cutoff:
                    email = f"donor-{donation_id}@example.org"
            if provider == "bank":
                bank_count += 1
                checkout = _bank_reference(bank_count, salt)
                created = max(ts - rng.uniform(3600, 5 * DAY), camp_pub[c] + 60)
                day = at(ts).date()
                statement = statements.get(day)
                if statement is None:
                    next_statement += 1
                    statement = statements[day] = [next_statement, ts - 1, 0]
                statement[2] += 1
                line_id += 1
                l_rows.append(
                    (
                        line_id,
                        statement[0],
                        f"camt:{slug_prefix}{seed}-{bank_count}",
                        w.day(day - timedelta(days=1)),
                        amount,
                        currency,
                        "",
                        matched,
                        donation_id,
                    )
                )
            else:
                checkout = f"demo_seed_{getrandbits(128):032x}"
                created = ts - 0.05
            d_rows.append(
                (
                    donation_id,
                    uid(public_id),
                    camp_id[c],
                    needs[earmark] if earmark is not None else None,
                    amount,
                    currency,
                    succeeded,
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
                    None,
                    message,
                    message_status,
                    language,
                    dt(at(created)),
                    when,
                )
            )
            if len(d_rows) >= chunk_size:
                flush()
                say(f"  {k + 1} donations")
        flush()
        summary.donations, summary.transfer_groups = donations, group_id - top[TransferGroup]
        summary.transfers, summary.bank_statement_lines = transfer_id - top[Transfer], line_id - top[BankStatementLine]

        # ---- what the stream decided: campaign status, account totals, statements, audit ----
        say("campaigns, accounts, statements, audit log")
        for c, row in enumerate(campaign_rows):
            funded = camp_funded[c]
            if funded is not None:
                row[4] = str(Status.FUNDED)
                row[9] = funded  # updated_at
                audit_rows.append(
                    (funded, None, "zbor", "campaign.funded", "campaigns.campaign", row[0], status_field)
                )
                summary.funded += 1
            row[8], row[9], row[10] = dt(at(row[8])), dt(at(row[9])), dt(at(row[10]))
        w.insert(
            Campaign,
            [
                "id",
                "slug",
                "beneficiary_id",
                "category",
                "status",
                "currency",
                "original_language",
                "cover",
                "created_at",
                "updated_at",
                "published_at",
                "closed_at",
                "submitted_by_id",
                "review_round",
                "revision_of_id",
            ],
            campaign_rows,
        )
        w.insert(
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
        summary.accounts = sum(1 for a in accounts.values() if not a[8])
        w.insert(
            BankStatement,
            ["id", "uploaded_at", "uploaded_by_id", "lines_total", "lines_new", "lines_matched"],
            [(s[0], dt(at(s[1])), staff, s[2], s[2], s[2]) for s in statements.values()],
        )
        audit_rows += [
            (s[1] + 1, staff, "bench-staff", "bank_statement.import", "donations.bankstatement", s[0], lines_field)
            for s in statements.values()
        ]
        audit_rows.sort(key=lambda row: row[0])
        w.insert(
            AuditEvent,
            ["id", "at", "actor_id", "actor_label", "action", "object_type", "object_id", "fields"],
            [
                (top[AuditEvent] + n + 1, dt(at(ts)), actor, label, action, kind, str(pk), fields)
                for n, (ts, actor, label, action, kind, pk, fields) in enumerate(audit_rows)
            ],
        )
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
