"""Helpers for the back-office tests: one record of every kind an admin screen shows, and every
admin URL to open with a real record's id and with MISSING, an id no record has."""

from __future__ import annotations

import io

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver

from tests import factories
from zbor.admin_base import registered_admins

MISSING = 987654

#: The steps on a case page (zbor/cases/case_views.py), each an address of its own.
CASE_STEPS = ("note", "ask", "check", "propose", "confirm", "withdraw", "campaign", "grant", "close", "purge")


def _pdf(author: str = "Ivan Petrov") -> SimpleUploadedFile:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Author": author})
    out = io.BytesIO()
    writer.write(out)
    return SimpleUploadedFile("r.pdf", out.getvalue(), content_type="application/pdf")


def every_kind_of_record() -> dict:
    """One object of each kind of record the back office shows, keyed by a short name; the
    model's ``_meta.label_lower`` is a key too (for walking every registered admin)."""
    from django.contrib.auth.models import Group

    from zbor.accounts import staff_changes
    from zbor.accounts.models import AuditEvent, AuthenticatorDevice, RecoveryCodeDevice, StaffChangeRequest
    from zbor.api.models import ApiToken
    from zbor.campaigns import private, revisions
    from zbor.campaigns.models import Need, StagedText
    from zbor.disbursements import moves
    from zbor.disbursements import services as payouts
    from zbor.donations.bank_import import import_statement
    from zbor.donations.models import (
        BankStatement,
        BankStatementLine,
        CreditNote,
        Donation,
        MessageStatus,
        PaymentInReview,
        WordsOfSupport,
    )
    from zbor.donations.receipts import issue_receipt
    from zbor.donations.services import record_demo_donation, request_refund, take_back
    from zbor.ledger.models import Account, TransferGroup
    from zbor.payments.models import PaymentEventRecord, StatementLayout

    finance, finance2 = factories.role_user("finance"), factories.role_user("finance")
    editor = factories.role_user("editor")
    superuser = factories.staff_user()
    campaign = factories.campaign()
    update = factories.update(campaign)
    note = factories.note(key=f"note{campaign.pk}")
    beneficiary = campaign.beneficiary
    private.write_private(
        beneficiary, by=editor, real_name="Real Name", contacts="+375 29 000", verification_notes="seen"
    )
    document = private.add_document(beneficiary, _pdf(), by=editor, label="passport")
    need = Need.objects.filter(campaign=campaign).order_by("position").first()
    assert need is not None
    record_demo_donation(campaign, amount=60000, need=need)
    payout = payouts.request_payout(
        need, amount=100, channel="cash", recipient="Secret Person", purpose="coat", by=finance
    )
    payouts.approve_payout(payout, by=finance2)
    payouts.mark_paid(payout, by=finance, proof=_pdf("Shop"))
    move = moves.request_move(
        source_campaign=campaign,
        source_need=need,
        target_campaign=campaign,
        target_need=None,
        amount=100,
        reason="walk",
        by=finance,
    )
    statement_csv = b"date,amount,currency,reference,transaction_id\n2026-01-05,12.00,EUR,NO-SUCH-REF,tx-1\n"
    import_statement(statement_csv, by=finance)
    ApiToken.objects.create(user=superuser, name="walk", prefix="zbor_walk", token_hash="0" * 64, scopes=[])
    AuthenticatorDevice.objects.create(user=superuser, name="phone", confirmed=True)
    words = Donation.objects.create(
        campaign=campaign,
        amount=2500,
        currency="EUR",
        provider="stripe",
        status="succeeded",
        email="vera@example.org",
        idempotency_key=f"walk-{campaign.pk}",
        payment_reference="pi_walk",
        public_name="Friend",
        message="Hold on",
        message_status=MessageStatus.PENDING,
    )
    PaymentEventRecord.objects.create(
        provider="stripe", event_id="evt_walk", type="checkout.session.completed", data={}
    )
    in_review = PaymentEventRecord.objects.create(
        provider="demo",
        event_id="evt_walk_review",
        type="succeeded",
        status="review",
        pledged=2500,
        data={"type": "succeeded", "amount": 250000, "currency": "EUR"},
    )
    RecoveryCodeDevice.objects.create(user=superuser, name="recovery codes", confirmed=True).add_codes(["walk-code"])
    refund = request_refund(
        Donation.objects.filter(campaign=campaign, provider="demo").first(), amount=100, reason="walk", by=finance
    )
    # A gift with a receipt, refunded in part: its credit note.
    receipted = record_demo_donation(campaign, amount=3000)
    Donation.objects.filter(pk=receipted.pk).update(email="walk@example.org")
    issue_receipt(receipted.pk)
    take_back(receipted, kind="refund", key="walk-refund", amount=500)
    revisions.stage_text(note, "en", {"term": "Note", "text": "A new text"}, by=editor)
    staff_changes.request_password_reset(editor, by=superuser, reason="lost phone")
    from tests.casework import caseworker
    from zbor.cases.tests.casefactory import sealed_case

    records = {
        "campaign": campaign,
        "beneficiary": beneficiary,
        "beneficiary_document": document,
        "need": need,
        "note": note,
        "update": update,
        "donation": Donation.objects.filter(campaign=campaign).first(),
        "words_of_support": WordsOfSupport.objects.get(pk=words.pk),
        "payout": payout,
        "move": move,
        "bank_statement": BankStatement.objects.first(),
        "bank_statement_line": BankStatementLine.objects.first(),
        "payment_event": PaymentEventRecord.objects.order_by("pk").first(),
        "payment_in_review": PaymentInReview.objects.get(pk=in_review.pk),
        "refund": refund,
        "credit_note": CreditNote.objects.get(),
        "monthly_gift": _monthly_gift(campaign),
        "statement_layout": StatementLayout.objects.create(
            name="Walk bank", date_column="Datum", amount_column="Betrag", currency="EUR", reference_columns="Text"
        ),
        "account": Account.objects.first(),
        "transfer_group": TransferGroup.objects.first(),
        "api_token": ApiToken.objects.first(),
        "authenticator_device": AuthenticatorDevice.objects.first(),
        "recovery_code_device": RecoveryCodeDevice.objects.first(),
        "staged_text": StagedText.objects.first(),
        "staff_change_request": StaffChangeRequest.objects.first(),
        "audit_event": AuditEvent.objects.first(),
        "user": superuser,
        "staff_member": editor,
        "group": Group.objects.get(name="editor"),
        "caseworker_key": caseworker().caseworker_keys.get(),
        "programme": _programme(),
        "case": sealed_case(),
    }
    for value in list(records.values()):
        records.setdefault(value._meta.label_lower, value)
    return records


def _programme():
    """A programme people apply to, with one question of its own."""
    from zbor.cases.models import Programme, Question

    programme = Programme.objects.create(slug="walk-programme")
    programme.create_translation("en", name="Walk programme")
    Question.objects.create(programme=programme, kind="text").create_translation("en", label="Walk question")
    return programme


def _monthly_gift(campaign):
    """A running demo monthly gift with its first month paid."""
    from zbor.donations import services
    from zbor.donations.events import receive_event
    from zbor.payments.demo import DemoProvider

    gift = services.start_monthly(
        campaign,
        amount=1000,
        provider="demo",
        email="monthly@example.org",
        language="en",
        idempotency_key="walk-monthly",
    )
    receive_event(DemoProvider.subscription_started(gift.checkout_reference))
    receive_event(DemoProvider.monthly_paid(gift.reference, "demo_inv_walk", amount=1000, currency="EUR"))
    gift.refresh_from_db()
    return gift


def url_patterns(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from url_patterns(p.url_patterns, prefix + str(p.pattern))
        else:
            assert isinstance(p, URLPattern)
            yield prefix + str(p.pattern), p


def admin_requests(records) -> list[tuple[str, list[str]]]:
    """(table key, [URL with the real id, URL with a missing id] or [URL]) for every admin pattern."""
    from django.urls import reverse

    base = reverse("admin:index")
    models = {f"{m._meta.app_label}/{m._meta.model_name}/": m for m, _a in registered_admins()}
    out = []
    for route, pattern in url_patterns(admin.site.get_urls()):
        key = pattern.name or route
        model = next((m for prefix, m in models.items() if route.startswith(prefix)), None)
        record = records.get(model._meta.label_lower) if model is not None else None
        assert model is None or record is not None, (
            f"every_kind_of_record() (tests/backoffice.py) makes no {model._meta.label}"
        )
        if pattern.name == "view_on_site":
            ct = ContentType.objects.get_for_model(records["campaign"]).pk
            out.append((key, [f"{base}r/{ct}/{records['campaign'].pk}/", f"{base}r/{ct}/{MISSING}/"]))
        elif pattern.name == "app_list":
            for app in (
                "campaigns",
                "ledger",
                "payments",
                "accounts",
                "auth",
                "donations",
                "disbursements",
                "api",
                "cases",
            ):
                out.append((f"app_list:{app}", [reverse("admin:app_list", args=[app])]))
        elif pattern.name == "autocomplete":
            out.append((key, [reverse("admin:autocomplete")]))
            for model_name, field in (("campaign", "beneficiary"), ("update", "campaign")):
                query = f"?app_label=campaigns&model_name={model_name}&field_name={field}&term=a"
                out.append((f"autocomplete:{model_name}.{field}", [reverse("admin:autocomplete") + query]))
        elif route.endswith("(?P<url>.*)$"):
            out.append((key, [f"{base}no-such-page/"]))
        elif "delete-translation" in route:
            prefix = route.split("^")[0]
            out.append(
                (
                    key,
                    [
                        f"{base}{prefix}{record.pk}/change/delete-translation/en/",
                        f"{base}{prefix}{MISSING}/change/delete-translation/en/",
                    ],
                )
            )
        elif pattern.name == "disbursements_payout_act":
            for action in ("approve", "reject", "cancel", "pay", "nonsense"):
                out.append(
                    (f"{key}:{action}", [reverse(f"admin:{key}", args=[pk, action]) for pk in (record.pk, MISSING)])
                )
        elif pattern.name == "campaigns_beneficiary_document":
            document = records["beneficiary_document"]
            out.append(
                (
                    key,
                    [
                        reverse(f"admin:{key}", args=[document.beneficiary_id, document.pk]),
                        reverse(f"admin:{key}", args=[MISSING, MISSING]),
                    ],
                )
            )
        elif pattern.name == "cases_case_act":
            for action in (*CASE_STEPS, "nonsense"):
                out.append(
                    (f"{key}:{action}", [reverse(f"admin:{key}", args=[pk, action]) for pk in (record.pk, MISSING)])
                )
        elif pattern.name == "cases_case_document":
            document = records["case"].documents.get()
            urls = [reverse(f"admin:{key}", args=[document.case_id, document.pk])]
            out.append((key, [*urls, reverse(f"admin:{key}", args=[MISSING, MISSING])]))
        elif pattern.name == "enrol_start":
            # Opened signed out by the person enrolling; a link that is not (or no longer) valid is gone.
            out.append((key, [reverse(f"admin:{key}", args=["no-such-link"])]))
        elif pattern.name in ("accounts_staffchangerequest_roles", "accounts_staffchangerequest_password"):
            out.append((key, [reverse(f"admin:{key}", args=[pk]) for pk in (records["staff_member"].pk, MISSING)]))
        elif "<" in route:
            if pattern.name:
                urls = [reverse(f"admin:{key}", args=[pk]) for pk in (record.pk, MISSING)]
            else:
                prefix = route.split("<")[0]
                urls = [f"{base}{prefix}{pk}/" for pk in (record.pk, MISSING)]
            out.append((key, urls))
        else:
            out.append((key, [reverse(f"admin:{key}")]))
    return out
