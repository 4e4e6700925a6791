"""Load the demo campaigns and the demo staff login. Safe to run again: nothing is duplicated."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from zbor.campaigns import services as campaign_services
from zbor.campaigns.models import Beneficiary, Campaign, Need, Note, Update
from zbor.disbursements import services as payout_services
from zbor.disbursements.models import Channel, Payout
from zbor.donations.bank_import import import_statement
from zbor.donations.services import record_demo_donation
from zbor.money import minor_digits
from zbor.site import demo
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
            self._note(demo.SHIZO_NOTE)
            created = [spec["slug"] for spec in demo.CAMPAIGNS if self._campaign(spec, user, reviewer)]
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

    def _campaign(self, spec: demo.CampaignSpec, user, reviewer) -> bool:
        if Campaign.objects.filter(slug=spec["slug"]).exists():
            return False
        person = spec["beneficiary"]
        beneficiary, created = Beneficiary.objects.get_or_create(
            reference=person["reference"],
            defaults={"name_is_pseudonym": person["pseudonym"], "consent_recorded": True},
        )
        if created:
            for language, name in person["names"].items():
                beneficiary.create_translation(language, display_name=name)
        campaign = Campaign.objects.create(
            slug=spec["slug"],
            beneficiary=beneficiary,
            category=spec["category"],
            currency=spec["currency"],
            original_language=spec["original_language"],
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
        campaign_services.bring_to_status(campaign, spec["status"], by=user, approver=reviewer)
        for amount, need_index in spec["donations"]:
            record_demo_donation(campaign, amount=amount, need=None if need_index is None else needs[need_index])
        if campaign.published_at:
            Campaign.objects.filter(pk=campaign.pk).update(published_at=now - timedelta(days=spec["days_ago"]))
        for need_index, amount, channel, days_ago in spec.get("payouts", []):
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
            Payout.objects.filter(pk=payout.pk).update(paid_at=now - timedelta(days=days_ago))
            if channel == Channel.BANK_ABROAD:
                _demo_bank_line(payout, (now - timedelta(days=max(days_ago - 1, 0))).date(), by=user)
        return True
