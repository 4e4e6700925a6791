"""The benchmark fixture's campaigns (bench/fixture.py), in order of publication: beneficiaries,
campaigns, needs and some updates with their translations, each approval and its audit events.

The campaign rows themselves are written last (``Campaigns.write``), once the donations have
decided which campaigns became funded; the rest is written by ``make_campaigns``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bench.fixture_content import (
    CATEGORIES,
    CURRENCIES,
    DAY,
    INITIALS,
    LOCATIONS,
    NAMES,
    NEED_AMOUNTS,
    NEEDS,
    OTHER_LANGUAGES,
    PARAGRAPHS,
    SUMMARIES,
    TITLES,
    UPDATES,
)
from bench.fixture_state import Load, at

STATUS_FIELD = json.dumps(["status"])
SCALE = {c: s for c, _w, s in CURRENCIES}


@dataclass
class Campaigns:
    """What the donation stream needs of each campaign, by its position in publication order."""

    ids: list[int] = field(default_factory=list)
    currencies: list[str] = field(default_factory=list)
    published: list[float] = field(default_factory=list)
    needs: list[list[int]] = field(default_factory=list)
    need_amounts: list[list[int]] = field(default_factory=list)
    goals: list[int] = field(default_factory=list)
    #: the campaign's language besides English, if any
    second: list[str | None] = field(default_factory=list)
    #: when it became funded (set by the donation stream)
    funded: list[float | None] = field(default_factory=list)
    #: running total of the campaigns' popularity weights, for picking one at random
    cumulative: list[float] = field(default_factory=list)
    #: the campaign rows, written by ``write`` (times still timestamps)
    rows: list[list[Any]] = field(default_factory=list)

    def write(self, load: Load) -> None:
        """The campaign rows, funded where the donations made them so (with ``campaign.funded``)."""
        from zbor.campaigns.models import Campaign, Kind, Status

        dt = load.w.dt
        for c, row in enumerate(self.rows):
            funded = self.funded[c]
            if funded is not None:
                row[4] = str(Status.FUNDED)
                row[9] = funded  # updated_at
                load.audit_rows.append(
                    (funded, None, "zbor", "campaign.funded", "campaigns.campaign", row[0], STATUS_FIELD)
                )
                load.summary.funded += 1
            row[8], row[9], row[10] = dt(at(row[8])), dt(at(row[9])), dt(at(row[10]))
        load.w.insert(
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
                "required_languages",
                "ends_on",
                "suggested_amounts",
                "kind",
                "yearly_target",
                "monthly_fund_id",
            ],
            # No language required, no end date, the usual suggested amounts, a personal campaign
            # naming no fund: as an editor leaves them.
            [[*row, "[]", None, "[]", str(Kind.PERSONAL), None, None] for row in self.rows],
        )


def make_campaigns(load: Load, count: int) -> Campaigns:
    """``count`` published campaigns, published over the 400 to 30 days before ``now``."""
    maker = _CampaignMaker(load, count)
    for i in range(count):
        maker.add(i)
    maker.write()
    load.summary.campaigns, load.summary.needs = count, len(maker.rows_n)
    maker.made.funded = [None] * count
    return maker.made


class _CampaignMaker:
    def __init__(self, load: Load, count: int):
        from zbor.campaigns.models import Beneficiary, Campaign, CampaignApproval, Need, Update

        self.load, self.count = load, count
        self.models = {
            "beneficiary": Beneficiary,
            "beneficiary_t": Beneficiary._parler_meta.root_model,
            "campaign": Campaign,
            "campaign_t": Campaign._parler_meta.root_model,
            "need": Need,
            "need_t": Need._parler_meta.root_model,
            "update": Update,
            "update_t": Update._parler_meta.root_model,
            "approval": CampaignApproval,
        }
        top = load.top
        self.ids = {name: top[model] for name, model in self.models.items()}
        self.pub_start, self.pub_span = load.now_ts - 400 * DAY, 370 * DAY
        self.currency_pick = [c for c, weight, _s in CURRENCIES for _ in range(weight)]
        self.weight_total = 0.0
        self.made = Campaigns()
        self.rows_b: list[tuple] = []
        self.rows_bt: list[tuple] = []
        self.rows_ct: list[tuple] = []
        self.rows_n: list[tuple] = []
        self.rows_nt: list[tuple] = []
        self.rows_u: list[tuple] = []
        self.rows_ut: list[tuple] = []
        self.rows_a: list[tuple] = []

    def add(self, i: int) -> None:
        """Campaign number ``i``: its beneficiary, texts, approval, needs and perhaps an update."""
        load, rng, made = self.load, self.load.rng, self.made
        cid, bid = self.load.top[self.models["campaign"]] + i + 1, self.load.top[self.models["beneficiary"]] + i + 1
        published = self.pub_start + (i + rng.random()) * self.pub_span / self.count
        created = published - rng.uniform(2, 20) * DAY
        submitted = published - rng.uniform(0.05, 1.5) * DAY
        currency = rng.choice(self.currency_pick)
        second = rng.choice(OTHER_LANGUAGES) if rng.random() < 0.4 else None
        original = second if second and rng.random() < 0.5 else "en"
        languages = ("en", second) if second else ("en",)
        slug = f"{load.slug_prefix}{i:05d}"
        if len(load.summary.slugs) < 1000:
            load.summary.slugs.append(slug)
        self._texts(cid, bid, slug, created, languages)
        self._campaign(cid, bid, slug, currency, original, created, published, submitted)
        need_ids, amounts = self._needs(cid, currency, languages)
        self._update(cid, published, languages)
        made.ids.append(cid)
        made.currencies.append(currency)
        made.published.append(published)
        made.needs.append(need_ids)
        made.need_amounts.append(amounts)
        made.goals.append(sum(amounts))
        made.second.append(second)
        self.weight_total += rng.lognormvariate(0, 1.2)
        made.cumulative.append(self.weight_total)

    def _texts(self, cid: int, bid: int, slug: str, created: float, languages: tuple[str, ...]) -> None:
        """The beneficiary and the campaign's texts, in each of its languages."""
        rng, ids = self.load.rng, self.ids
        name = rng.choice(NAMES)
        initial = rng.choice(INITIALS)
        title, summary_text, location = rng.choice(TITLES), rng.choice(SUMMARIES), rng.choice(LOCATIONS)
        paragraphs = rng.sample(PARAGRAPHS, rng.randint(3, len(PARAGRAPHS)))
        self.rows_b.append(
            (
                bid,
                f"B-{slug}"[:40],
                rng.random() < 0.5,
                True,
                False,
                "",
                "",
                "",
                None,
                self.load.w.dt(at(created - 3600)),
            )
        )
        for lang in languages:
            ids["beneficiary_t"] += 1
            self.rows_bt.append((ids["beneficiary_t"], lang, f"{name[lang]} {initial[lang]}", bid))
            full = f"{name[lang]} {initial[lang]}"
            ids["campaign_t"] += 1
            story = "\n\n".join(p[lang].format(name=name[lang]) for p in paragraphs)
            self.rows_ct.append(
                (
                    ids["campaign_t"],
                    lang,
                    title[lang].format(name=full),
                    summary_text[lang].format(name=name[lang]),
                    location[lang],
                    story,
                    "",
                    cid,
                )
            )

    def _campaign(
        self,
        cid: int,
        bid: int,
        slug: str,
        currency: str,
        original: str,
        created: float,
        published: float,
        submitted: float,
    ) -> None:
        """The campaign row, its approval and the audit events of its submission and publication."""
        from zbor.campaigns.models import Status

        load, staff, reviewer = self.load, self.load.staff, self.load.reviewer
        self.made.rows.append(
            [
                cid,
                slug,
                bid,
                load.rng.choice(CATEGORIES),
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
        self.rows_a.append((self.ids["approval"] + 1, cid, 1, reviewer, True, load.w.dt(at(published))))
        self.ids["approval"] += 1
        load.audit_rows += [
            (submitted, staff, "bench-staff", "campaign.submit", "campaigns.campaign", cid, STATUS_FIELD),
            (
                published - 0.01,
                reviewer,
                "bench-reviewer",
                "campaign.approve",
                "campaigns.campaign",
                cid,
                STATUS_FIELD,
            ),
            (published, reviewer, "bench-reviewer", "campaign.publish", "campaigns.campaign", cid, STATUS_FIELD),
        ]

    def _needs(self, cid: int, currency: str, languages: tuple[str, ...]) -> tuple[list[int], list[int]]:
        rng, ids = self.load.rng, self.ids
        need_ids, amounts = [], []
        for position, description in enumerate(rng.sample(NEEDS, rng.choice((1, 1, 2, 2, 2, 3, 3, 4)))):
            ids["need"] += 1
            amount = rng.choice(NEED_AMOUNTS) * SCALE[currency]
            self.rows_n.append((ids["need"], cid, position, amount, None))
            for lang in languages:
                ids["need_t"] += 1
                self.rows_nt.append((ids["need_t"], lang, description[lang], ids["need"]))
            need_ids.append(ids["need"])
            amounts.append(amount)
        return need_ids, amounts

    def _update(self, cid: int, published: float, languages: tuple[str, ...]) -> None:
        """One campaign in five has posted an update."""
        rng, ids = self.load.rng, self.ids
        if rng.random() < 0.2:
            ids["update"] += 1
            published_on = at(rng.uniform(published, self.load.now_ts)).date()
            self.rows_u.append((ids["update"], cid, self.load.w.day(published_on), None))
            update = rng.choice(UPDATES)
            for lang in languages:
                ids["update_t"] += 1
                self.rows_ut.append((ids["update_t"], lang, update[lang][0], update[lang][1], ids["update"]))

    def write(self) -> None:
        """Every row made here but the campaigns'."""
        w, m = self.load.w, self.models
        w.insert(
            m["beneficiary"],
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
            self.rows_b,
        )
        w.insert(m["beneficiary_t"], ["id", "language_code", "display_name", "master_id"], self.rows_bt)
        w.insert(
            m["campaign_t"],
            ["id", "language_code", "title", "summary", "location", "story", "cover_alt", "master_id"],
            self.rows_ct,
        )
        # replaces_id / revision_of_id: only revisions (zbor.campaigns.revisions) have them.
        w.insert(m["need"], ["id", "campaign_id", "position", "amount", "replaces_id"], self.rows_n)
        w.insert(m["need_t"], ["id", "language_code", "description", "master_id"], self.rows_nt)
        w.insert(m["update"], ["id", "campaign_id", "published_on", "replaces_id"], self.rows_u)
        w.insert(m["update_t"], ["id", "language_code", "title", "body", "master_id"], self.rows_ut)
        w.insert(
            m["approval"], ["id", "campaign_id", "review_round", "approver_id", "as_admin", "created_at"], self.rows_a
        )
