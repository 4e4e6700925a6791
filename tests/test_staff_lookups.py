"""Issue 14: an admin list accepts only the lookups it declares.

A count of rows answered to ``?email__startswith=v`` reads a donor's email a letter at a time.
Every registered admin × every role × a lookup on each private field must be refused (400, or
403 for a role that may not see the list at all), never answered with a count.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core import checks
from django.urls import reverse
from django.utils import translation

from tests import factories
from zbor.admin_base import ZborModelAdmin, check_admins_build_on_zbor_base, registered_admins

ROLES = ["none", "editor", "finance", "admin", "superuser"]

# Each model's fields that are private (people, payment references, secrets, hashes, encrypted).
PRIVATE_FIELDS: dict[str, list[str]] = {
    "auth.user": ["email", "password", "first_name", "last_name", "username"],
    "auth.group": ["permissions__codename"],
    "campaigns.beneficiary": [
        "real_name_secret",
        "contacts_secret",
        "verification_notes_secret",
        "documents__label_secret",
    ],
    "campaigns.campaign": ["beneficiary__real_name_secret", "beneficiary__contacts_secret", "submitted_by__email"],
    "campaigns.note": ["translations__text"],
    "campaigns.update": ["campaign__beneficiary__real_name_secret"],
    "ledger.account": ["owner_id"],
    "ledger.transfergroup": ["reference", "key"],
    "payments.paymenteventrecord": ["data", "event_id", "checkout_reference", "payment_reference"],
    "donations.paymentinreview": ["data", "event_id", "checkout_reference", "payment_reference", "pledged", "reason"],
    "donations.refund": ["reason", "donation__email", "donation__payment_reference", "requested_by__email"],
    "donations.creditnote": ["key", "amount", "donation__email", "donation__payment_reference", "donation__public_id"],
    # A bank's layout holds no one's data; its lookups are refused like any undeclared one.
    "payments.statementlayout": ["reference_columns", "encoding"],
    "donations.donation": [
        "email",
        "idempotency_key",
        "payment_reference",
        "checkout_reference",
        "charge_reference",
        "checkout_url",
        "public_name",
        "message",
        "amount",
        "succeeded_at",
    ],
    "donations.wordsofsupport": [
        "email",
        "idempotency_key",
        "payment_reference",
        "checkout_reference",
        "amount",
        "created_at",
        "succeeded_at",
        "status",
        "provider",
        "message_status__gte",
    ],
    "donations.bankstatement": ["uploaded_by__email"],
    "donations.monthlygift": ["email", "idempotency_key", "checkout_url", "customer_reference", "amount"],
    "donations.bankstatementline": ["text", "key", "donation__email", "amount"],
    "disbursements.payout": [
        "recipient_secret",
        "proof_name",
        "decision_reason",
        "purpose",
        "amount",
        "crypto_proof_secret",
        "crypto_amount",
    ],
    "disbursements.move": ["reason", "amount", "requested_by__email", "source_need__translations__description"],
    "api.apitoken": ["token_hash", "prefix", "user__email"],
    "accounts.authenticatordevice": ["key_secret", "user__email", "last_t", "user__password"],
    "accounts.recoverycodedevice": ["codes__digest", "salt", "user__email", "user__password"],
    "campaigns.stagedtext": ["values", "beneficiary__real_name_secret", "editors__email"],
    "accounts.staffchangerequest": ["reason", "target__email", "requested_by__email", "target__password"],
    "accounts.auditevent": ["fields", "actor__email"],
    "cases.caseworkerkey": ["wrapped", "salt", "user__email", "foundation_key__public_key"],
    "cases.programme": ["cases__answers", "cases__phrase_hash", "cases__notes__body", "cases__applicant_key_wrapped"],
    "cases.case": [
        "answers",
        "phrase_hash",
        "messages__body",
        "messages__body_for_applicant",
        "notes__body",
        "documents__meta",
        "assignee__email",
        "applicant_key_wrapped",
        "applicant_key_salt",
        "applicant_public_key",
    ],
}

LOOKUPS = ["{}__startswith=v", "{}__gte=m", "{}__regex=(", "{}=x"]


def _user(role: str):
    if role == "none":
        return factories.staff_user(superuser=False)
    if role == "superuser":
        return factories.staff_user()
    return factories.role_user(role)


def _changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def test_every_registered_admin_has_its_private_fields_listed():
    labels = {model._meta.label_lower for model, _admin in registered_admins()}
    assert labels == set(PRIVATE_FIELDS), "add the new admin's private fields to PRIVATE_FIELDS"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.django_db
def test_a_lookup_on_a_private_field_is_refused_for_every_admin_and_role(client, role):
    factories.campaign(donations=(1000,))
    client.force_login(_user(role))
    answered = []
    for model, _admin in registered_admins():
        url = _changelist(model)
        for field in PRIVATE_FIELDS[model._meta.label_lower]:
            for lookup in LOOKUPS:
                response = client.get(url + "?" + lookup.format(field))
                if response.status_code not in (400, 403):
                    answered.append((url, lookup.format(field), response.status_code))
    assert answered == []


@pytest.mark.django_db
def test_the_refusal_is_a_clear_translated_page_and_logged(client, caplog):
    client.force_login(factories.role_user("finance"))
    url = reverse("admin:donations_donation_changelist")
    response = client.get(url + "?email__startswith=v")
    assert response.status_code == 400
    page = response.content.decode()
    assert "email__startswith" in page and "not offered" in page
    assert "refused list lookup on donations.donation" in caplog.text
    from zbor.accounts.models import AuditEvent

    event = AuditEvent.objects.get(action="admin.lookup.refused")
    assert event.fields == ["donations.donation:email__startswith"]  # the name, never the value tried
    with translation.override("ru"):
        response = client.get(url + "?email__regex=(", HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 400
    assert "not offered" not in response.content.decode()


@pytest.mark.django_db
def test_declared_filters_search_date_hierarchy_ordering_and_pages_still_work(client):
    factories.campaign(donations=(1000,))
    client.force_login(factories.role_user("finance"))
    donations = reverse("admin:donations_donation_changelist")
    for query in [
        "",
        "status__exact=succeeded",
        "provider=demo",
        "message_status__exact=pending",
        "created_at__gte=2020-01-01+00:00:00%2B00:00",
        "q=abc",
        "o=2",
        "p=1",
        "all=",
        "e=1",
        "_facets=True",
        "status__isnull=True",
    ]:
        assert client.get(f"{donations}?{query}").status_code == 200, query
    client.force_login(factories.role_user("admin"))
    audit = reverse("admin:accounts_auditevent_changelist")
    for query in [
        "at__year=2026",
        "at__year=2026&at__month=1",
        "action=x",
        "object_type=y",
        "at__gte=2026-01-01+00:00:00%2B00:00",
    ]:
        assert client.get(f"{audit}?{query}").status_code == 200, query


@pytest.mark.django_db
def test_a_bad_value_in_a_declared_filter_is_no_500(client):
    client.force_login(factories.role_user("finance"))
    donations = reverse("admin:donations_donation_changelist")
    assert client.get(f"{donations}?created_at__gte=not-a-date").status_code in (200, 302)


def test_the_system_check_refuses_an_admin_outside_the_base():
    assert check_admins_build_on_zbor_base() == []

    class PlainAdmin(admin.ModelAdmin):
        pass

    admin.site.register(Permission, PlainAdmin)
    try:
        errors = check_admins_build_on_zbor_base()
    finally:
        admin.site.unregister(Permission)
    assert [e.id for e in errors] == ["zbor.E001"]
    assert errors[0].level == checks.ERROR


def test_every_registered_admin_builds_on_the_base():
    for _model, model_admin in registered_admins():
        assert isinstance(model_admin, ZborModelAdmin)


@pytest.mark.parametrize("role", ["none", "editor", "admin"])
@pytest.mark.django_db
def test_custom_views_refuse_before_looking_the_object_up(client, role):
    """Payout steps, proofs, beneficiary documents, history: the same 403 for an id that exists
    and one that does not, so a role without the permission cannot count records."""
    from tests.backoffice import every_kind_of_record

    records = every_kind_of_record()
    payout, document = records["payout"], records["beneficiary_document"]
    client.force_login(_user(role))
    missing = 999999
    urls = []
    for pk in (payout.pk, missing):
        urls += [
            reverse("admin:disbursements_payout_act", args=[pk, action])
            for action in ("approve", "reject", "cancel", "pay", "nonsense")
        ]
        urls += [
            reverse("admin:disbursements_payout_proof", args=[pk]),
            reverse("admin:disbursements_payout_history", args=[pk]),
        ]
        urls += [reverse("admin:donations_donation_history", args=[pk])]
    if role != "admin":  # an admin reads the audit log, whose history is the same
        urls += [reverse("admin:accounts_auditevent_history", args=[missing])]
    if role == "none":
        for pk, doc in ((document.beneficiary_id, document.pk), (missing, missing)):
            urls.append(reverse("admin:campaigns_beneficiary_document", args=[pk, doc]))
    urls.append(reverse("admin:donations_export"))
    answers = {url: client.get(url).status_code for url in urls}
    assert {url: code for url, code in answers.items() if code != 403} == {}


@pytest.mark.django_db
def test_an_editor_moderates_words_of_support_without_seeing_the_donation(client):
    """Issue 14: the editor saw amounts, exact times and the provider's payment ids."""
    from zbor.donations.models import Donation, MessageStatus

    campaign = factories.campaign()
    Donation.objects.create(
        campaign=campaign,
        amount=4321,
        currency="EUR",
        provider="stripe",
        status="succeeded",
        email="vera@example.org",
        idempotency_key="idem-secret-1",
        payment_reference="pi_SECRET",
        checkout_reference="cs_SECRET",
        public_name="Friend",
        message="Hold on, we are with you",
        message_status=MessageStatus.PENDING,
    )
    donation = Donation.objects.get(payment_reference="pi_SECRET")
    client.force_login(factories.role_user("editor"))
    assert client.get(reverse("admin:donations_donation_changelist")).status_code == 403
    assert client.get(reverse("admin:donations_donation_change", args=[donation.pk])).status_code == 403
    pages = [
        client.get(reverse("admin:donations_wordsofsupport_changelist")),
        client.get(reverse("admin:donations_wordsofsupport_change", args=[donation.pk])),
    ]
    for page in pages:
        assert page.status_code == 200
        text = page.content.decode()
        assert "Hold on, we are with you" in text and "Friend" in text
        for secret in ("vera@example.org", "idem-secret", "pi_SECRET", "cs_SECRET", "43.21", "43,21", "stripe"):
            assert secret not in text, secret
    response = client.post(
        reverse("admin:donations_wordsofsupport_changelist"),
        {"action": "approve_messages", "_selected_action": [donation.pk]},
    )
    assert response.status_code == 302
    donation.refresh_from_db()
    assert donation.message_status == MessageStatus.APPROVED
    for role in ("finance", "admin"):
        client.force_login(factories.role_user(role))
        assert client.get(reverse("admin:donations_wordsofsupport_changelist")).status_code == 403
    # Finance sees the money and its references, not the donor's email, name or words.
    client.force_login(factories.role_user("finance"))
    page = client.get(reverse("admin:donations_donation_change", args=[donation.pk])).content.decode()
    assert "pi_SECRET" in page
    for private in ("vera@example.org", "Friend", "Hold on, we are with you", "idem-secret"):
        assert private not in page, private


@pytest.mark.django_db
def test_declared_lookups_cover_simple_filters_filter_classes_and_the_date_hierarchy(rf):
    from zbor.donations.models import Donation

    class BigGifts(admin.SimpleListFilter):
        title = "big"
        parameter_name = "big"

        def lookups(self, request, model_admin):
            return [("yes", "yes")]

        def queryset(self, request, queryset):
            return queryset

    class Sample(ZborModelAdmin):
        list_filter = [
            BigGifts,
            ("created_at", admin.DateFieldListFilter),
            ("status", admin.ChoicesFieldListFilter),
            "campaign",
        ]
        date_hierarchy = "succeeded_at"

    request = rf.get("/")
    request.user = factories.staff_user()
    declared = Sample(Donation, admin.site).declared_lookups(request)
    assert declared == {
        "big",
        "created_at__gte",
        "created_at__lt",
        "status__exact",
        "status__isnull",
        "campaign__id__exact",
        "campaign__isnull",
        "succeeded_at__year",
        "succeeded_at__month",
        "succeeded_at__day",
    }
