"""Load the demo campaigns and the demo staff login. Safe to run again: nothing is duplicated."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from zbor.campaigns import services as campaign_services
from zbor.campaigns.models import Beneficiary, Campaign, Kind, Need, Note, Update
from zbor.disbursements import services as payout_services
from zbor.disbursements.models import Channel, Payout
from zbor.donations.bank_import import import_statement
from zbor.donations.demo_monthly import record_demo_monthly_gift
from zbor.donations.services import record_demo_donation
from zbor.money import minor_digits
from zbor.site import demo, demo_cases, demo_texts
from zbor.site.demo_covers import attach_cover


def _demo_receipt():
    """A small picture standing in for a scanned receipt."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 200), "white")
    ImageDraw.Draw(image).text((20, 20), "DEMO RECEIPT", fill="black")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return SimpleUploadedFile("receipt.png", out.getvalue(), content_type="image/png")


def _demo_bank_line(payout: Payout, booked_on, *, by) -> None:
    """The bank statement line of a demo payout paid by bank transfer, imported as finance would:
    it is matched to the payout (zbor.donations.bank_out)."""
    digits = minor_digits(payout.currency)
    major, minor = divmod(payout.amount, 10**digits)
    amount = f"-{major}.{minor:0{digits}d}" if digits else f"-{major}"
    csv = f"date,amount,currency,reference,transaction_id\n{booked_on},{amount},{payout.currency},{payout.reference},demo-{payout.reference}\n"
    import_statement(csv.encode(), by=by)


@contextmanager
def _clock_at(moment):
    """Run the real services as if it were ``moment``: the demo's gifts and payouts are booked
    on the days the campaign pages show, so the ledger's transfers (and the transparency page's
    months, read from them) carry the same dates as the payouts. Writing a date after the fact
    would leave the ledger saying "today" while the page says "last month"."""
    with mock.patch.object(timezone, "now", return_value=moment):
        yield


class Command(BaseCommand):
    help = "Load the demo campaigns and a demo staff login (demo settings only)."

    def handle(self, *args, **options):
        if not getattr(settings, "ZBOR_DEMO", False):
            raise CommandError("Demo data is only loaded with demo settings, never in production.")
        demo_slugs = {spec["slug"] for spec in demo.CAMPAIGNS}
        User = get_user_model()
        demo_users = [demo.DEMO_STAFF_USERNAME, demo.DEMO_REVIEWER_USERNAME]
        if (
            Campaign.objects.exclude(slug__in=demo_slugs).exists()
            or User.objects.exclude(username__in=demo_users).exists()
        ):
            # A database with real campaigns or people must never get a demo superuser with a
            # published password, whatever the settings say. Not an error: `make run` goes on.
            self.stdout.write(
                "This database holds campaigns or people that are not the demo's: demo data and the demo login were not added."
            )
            return
        with transaction.atomic():
            user = self._staff(demo.DEMO_STAFF_USERNAME)
            reviewer = self._staff(demo.DEMO_REVIEWER_USERNAME)
            self._note(demo_texts.SHIZO_NOTE)
            created = [spec["slug"] for spec in demo.CAMPAIGNS if self._campaign(spec, user, reviewer)]
            programmes = demo_cases.load_programmes()
            if demo_cases.load_key(user, reviewer):
                self.stdout.write(
                    f"Demo casework key: unlock with the passphrase {demo_cases.DEMO_CASEWORK_PASSPHRASE!r}"
                )
            demo_cases.load_applications()
        if programmes:
            self.stdout.write(f"Demo programmes for applications: {', '.join(programmes)}")
        if created:
            self.stdout.write(f"Demo campaigns loaded: {', '.join(created)}")
        else:
            self.stdout.write("Demo campaigns already present; nothing changed.")

    def _staff(self, username):
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(demo.DEMO_STAFF_PASSWORD)
            user.save(update_fields=["password"])
        return user

    def _note(self, spec):
        note, created = Note.objects.get_or_create(key=spec["key"])
        if created:
            for language, (term, text) in spec["translations"].items():
                note.create_translation(language, term=term, text=text)

    def _beneficiary(self, spec: demo.CampaignSpec) -> Beneficiary | None:
        person = spec.get("beneficiary")
        if person is None:
            return None  # a programme fund
        beneficiary, created = Beneficiary.objects.get_or_create(
            reference=person["reference"],
            defaults={"name_is_pseudonym": person["pseudonym"], "consent_recorded": True},
        )
        if created:
            for language, name in person["names"].items():
                beneficiary.create_translation(language, display_name=name)
        return beneficiary

    def _campaign(self, spec: demo.CampaignSpec, user, reviewer) -> bool:
        if Campaign.objects.filter(slug=spec["slug"]).exists():
            return False
        campaign = Campaign.objects.create(
            slug=spec["slug"],
            kind=spec.get("kind", Kind.PERSONAL),
            beneficiary=self._beneficiary(spec),
            category=spec["category"],
            currency=spec["currency"],
            original_language=spec["original_language"],
            yearly_target=spec.get("yearly_target"),
            monthly_fund=Campaign.objects.get(slug=spec["monthly_fund"]) if "monthly_fund" in spec else None,
        )
        for language, fields in spec["translations"].items():
            campaign.create_translation(language, **fields)
        attach_cover(campaign)
        needs = []
        for position, (amount, descriptions) in enumerate(spec["needs"]):
            need = Need.objects.create(campaign=campaign, position=position, amount=amount)
            for language, description in descriptions.items():
                need.create_translation(language, description=description)
            needs.append(need)
        now = timezone.now()
        for days_ago, texts in spec["updates"]:
            update = Update.objects.create(campaign=campaign, published_on=(now - timedelta(days=days_ago)).date())
            for language, (title, body) in texts.items():
                update.create_translation(language, title=title, body=body)
        status = spec["status"]
        # Money moves while the campaign is open, as it does for real; a funded or closed demo
        # campaign reaches that state afterwards, so its gifts fill its needs instead of landing
        # "beyond the goal", and its payouts are paid from those needs.
        opened = now - timedelta(days=spec["days_ago"])
        with _clock_at(opened):
            campaign_services.bring_to_status(
                campaign, status if status in ("draft", "in_review") else "published", by=user, approver=reviewer
            )
        payouts = spec.get("payouts", [])
        # Gifts arrive spread between opening and the first payout (or today).
        last_gift = now - timedelta(days=max([p[3] for p in payouts], default=0) + 1)
        gifts = spec["donations"]
        for position, (amount, need_index) in enumerate(gifts):
            moment = opened + (last_gift - opened) * (position + 1) / (len(gifts) + 1)
            with _clock_at(moment):
                record_demo_donation(campaign, amount=amount, need=None if need_index is None else needs[need_index])
        for position, amount in enumerate(spec.get("monthly", [])):
            # Supporters who began giving monthly a month ago (zbor demo_advance_month bills them again).
            with _clock_at(last_gift - timedelta(days=30 - position)):
                record_demo_monthly_gift(
                    campaign, amount=amount, email=f"demo-monthly-{spec['slug'][:12]}-{position}@example.org"
                )
        for need_index, amount, channel, days_ago in payouts:
            with _clock_at(now - timedelta(days=days_ago)):
                payout = payout_services.request_payout(
                    needs[need_index],
                    amount=amount,
                    channel=channel,
                    recipient="Demo law office, demo account",
                    purpose="Demo payout",
                    by=user,
                )
                payout_services.approve_payout(payout, by=reviewer)
                payout_services.mark_paid(payout, by=user, proof=_demo_receipt())
            if channel == Channel.BANK_ABROAD:
                with _clock_at(now - timedelta(days=max(days_ago - 1, 0))):
                    _demo_bank_line(payout, timezone.localdate(), by=user)
        campaign.refresh_from_db()
        # Reaching the goal marks a campaign funded by itself; only what is left is done here.
        if status == "funded" and campaign.status != "funded":
            campaign_services.mark_funded(campaign, by=user)
        elif status == "closed":
            campaign_services.close_campaign(campaign, by=user)
        return True
