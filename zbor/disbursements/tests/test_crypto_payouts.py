"""Crypto payouts (issue 19): requested, approved by a second person, marked paid with the
transaction as the proof; the value leaves the crypto wallet in the books; the campaign page
says "Crypto transfer"; the transaction id and address stay private everywhere else."""

from __future__ import annotations

import csv
import io
import logging
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests import factories
from tests.helpers import DEMO
from zbor.accounts.models import AuditEvent
from zbor.campaigns.models import Need
from zbor.disbursements import services
from zbor.disbursements.crypto_proof import CryptoProof
from zbor.disbursements.exceptions import PayoutWrongState
from zbor.disbursements.models import Payout, PayoutStatus
from zbor.disbursements.tests.test_payouts import receipt, text_of
from zbor.donations import services as donations
from zbor.donations.models import Donation
from zbor.donations.reconcile import reconcile
from zbor.ledger.models import Transfer
from zbor.ledger.selectors import provider_holds

pytestmark = pytest.mark.django_db

TXID = "a1" * 32
ADDRESS = "bc1qxy2kgdygjrsqtzq2n0yrf2493p83kkfjhx0wlh"
PAY = "/backoffice/disbursements/payout/{}/act/{}/"


@pytest.fixture
def people():
    return {
        "finance": factories.role_user("finance", "fin-one"),
        "finance2": factories.role_user("finance", "fin-two"),
        "editor": factories.role_user("editor", "ed"),
    }


def crypto_gift(campaign, amount: int) -> Donation:
    """A gift in crypto settled through BTCPay: booked into the crypto wallet at its value."""
    donation = Donation.objects.create(
        campaign=campaign,
        amount=amount,
        currency=campaign.currency,
        provider="btcpay",
        checkout_reference=f"inv-{uuid.uuid4().hex}",
        idempotency_key=uuid.uuid4().hex,
    )
    donations.confirm_donation(donation, amount=amount)
    return donation


def approved_crypto_payout(demo, people, amount=30000) -> Payout:
    need = Need.objects.get(campaign=demo, position=0)  # €500 collected of €500
    payout = services.request_payout(
        need, amount=amount, channel="crypto", recipient="Pavel's wallet", purpose="Lawyer", by=people["finance"]
    )
    return services.approve_payout(payout, by=people["finance2"])


def group_lines(payout):
    return {
        (t.debit_account.code, t.credit_account.code, t.amount, t.kind)
        for t in Transfer.objects.filter(group__key=f"{payout.reference}:paid").select_related(
            "debit_account", "credit_account"
        )
    }


def test_a_crypto_payout_passes_four_eyes_and_the_page_shows_a_crypto_transfer(client, demo, people, caplog):
    caplog.set_level(logging.DEBUG)
    crypto_gift(demo, 40000)
    need = Need.objects.get(campaign=demo, position=0)
    client.force_login(people["finance"])
    response = client.post(
        "/backoffice/disbursements/payout/request/",
        {"need": need.pk, "amount": "300", "channel": "crypto", "recipient": "Pavel's wallet", "purpose": "Lawyer"},
    )
    assert response.status_code == 302
    payout = Payout.objects.get(purpose="Lawyer")
    client.post(PAY.format(payout.pk, "approve"))  # the requester may not approve
    assert Payout.objects.get(pk=payout.pk).status == PayoutStatus.REQUESTED
    client.force_login(people["finance2"])
    client.post(PAY.format(payout.pk, "approve"))
    assert Payout.objects.get(pk=payout.pk).status == PayoutStatus.APPROVED

    client.force_login(people["finance"])
    form = client.get(PAY.format(payout.pk, "pay")).content.decode()
    assert 'name="transaction_id"' in form and 'name="network"' in form
    response = client.post(
        PAY.format(payout.pk, "pay"),
        {"network": "bitcoin", "coin_amount": "0,00412", "transaction_id": TXID.upper(), "address": ADDRESS},
    )
    assert response.status_code == 302
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PAID and payout.proof_name == ""
    assert (payout.crypto_network, payout.crypto_amount) == ("bitcoin", "0.00412")
    assert TXID not in payout.crypto_proof_secret and ADDRESS not in payout.crypto_proof_secret  # encrypted

    # The books: the public side, and the value out of the crypto wallet in the same group.
    assert group_lines(payout) == {
        (f"need:{need.pk}", f"payouts:need:{need.pk}", 30000, "payout"),
        ("disbursed:btcpay:EUR", "provider:btcpay:EUR", 30000, "crypto_out"),
    }
    assert provider_holds("btcpay", "EUR") == 10000
    assert reconcile().ok, reconcile().lines()

    page = client.get(f"/en/campaigns/{DEMO}/").content.decode()
    spent = text_of(page).split("How the money was spent")[1].split("Updates")[0]
    assert "€300" in spent and "Crypto transfer" in spent and "Transaction checked by the foundation" in spent
    api = client.get(f"/api/v1/campaigns/{DEMO}?lang=en").content.decode()
    assert "Crypto transfer" in api
    export = client.get("/backoffice/donations/donation/export/", {"kind": "payouts"})
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert [r["channel"] for r in rows if r["payout"] == str(payout.pk)] == ["Crypto transfer"]
    events = list(AuditEvent.objects.values_list("fields", flat=True))
    for text in (page, api, str(rows), str(events), caplog.text):
        assert TXID not in text.lower() and ADDRESS not in text and "0.00412" not in text

    # Finance reads the transaction on the payout's page; every read is audited.
    client.force_login(people["finance2"])
    detail = client.get(f"/backoffice/disbursements/payout/{payout.pk}/change/").content.decode()
    assert TXID in detail and ADDRESS in detail and "0.00412 BTC" in detail
    read = AuditEvent.objects.get(action="payout.crypto_proof.read", actor=people["finance2"])
    assert read.fields == ["crypto_proof"]
    paid = AuditEvent.objects.get(action="payout.paid", object_id=str(payout.pk))
    assert paid.fields == ["crypto_proof", "status"]


BAD = [
    ({"network": "bitcoin", "transaction_id": "a1" * 31}, "64 characters"),
    ({"network": "bitcoin", "transaction_id": "g1" * 32}, "64 characters"),
    ({"network": "lightning", "transaction_id": "lnbc1..."}, "payment hash or preimage"),
    ({"network": "usdt_tron", "transaction_id": "0x" + TXID}, "without 0x"),
    ({"network": "usdt_ethereum", "transaction_id": TXID}, "0x followed by 64"),
    ({"network": "bitcoin", "coin_amount": "0.000000001"}, "at most 8 decimals"),
    ({"network": "usdt_tron", "coin_amount": "10.1234567", "transaction_id": TXID}, "at most 6 decimals"),
    ({"coin_amount": "0"}, "greater than zero"),
    ({"coin_amount": "-1"}, "as a number"),
    ({"coin_amount": "1e-5"}, "as a number"),
    ({"coin_amount": "1,000.5"}, "as a number"),
    ({"coin_amount": "\u0661.5"}, "as a number"),  # an Arabic-Indic digit one: ASCII digits only
    ({"address": "not an address"}, "receiving address"),
    ({"network": "usdt_ethereum", "transaction_id": "0x" + TXID, "address": "0x1234"}, "receiving address"),
    ({"network": ""}, "This field is required"),
]


@pytest.mark.parametrize("change, error", BAD)
def test_a_bad_transaction_id_or_amount_is_a_clear_form_error_and_writes_nothing(client, demo, people, change, error):
    payout = approved_crypto_payout(demo, people)
    transfers, audits = Transfer.objects.count(), AuditEvent.objects.count()
    client.force_login(people["finance"])
    typed = {"network": "bitcoin", "coin_amount": "0.5", "transaction_id": TXID, "address": "", **change}
    response = client.post(PAY.format(payout.pk, "pay"), typed)
    assert response.status_code == 200
    assert error in text_of(response.content.decode())
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.APPROVED and payout.crypto_network == "" and payout.crypto_proof_secret == ""
    assert (Transfer.objects.count(), AuditEvent.objects.count()) == (transfers, audits)


@pytest.mark.parametrize(
    "network, amount, txid, address",
    [
        ("bitcoin", "0.00000001", TXID, "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"),
        ("lightning", "0.0005", TXID, "lnbc5u1pjexample"),
        ("usdt_tron", "250.5", TXID, "TJRyWwFs9wTFGZg3JbrVriFbNfCug5tDeC"),
        ("usdt_ethereum", "1000", "0x" + TXID, "0x52908400098527886E0F7030069857D2E4169EE7"),
    ],
)
def test_each_network_takes_its_own_transaction_ids(demo, people, network, amount, txid, address):
    payout = approved_crypto_payout(demo, people, amount=100)
    proof = CryptoProof(network=network, coin_amount=amount, transaction_id=f" {txid} ", address=address)
    services.mark_paid(payout, by=people["finance"], crypto=proof)
    sent = services.read_crypto_proof(payout, by=people["finance2"])
    assert sent is not None and (sent.transaction_id, sent.address) == (txid, address)
    assert payout.crypto_amount == amount


def test_the_service_refuses_a_missing_or_misplaced_proof_and_writes_nothing(demo, people):
    payout = approved_crypto_payout(demo, people)
    good = CryptoProof(network="bitcoin", coin_amount="0.1", transaction_id=TXID)
    with pytest.raises(PayoutWrongState, match="transaction id"):
        services.mark_paid(payout, by=people["finance"], proof=receipt())  # a file alone is not enough
    with pytest.raises(ValidationError) as bad:
        services.mark_paid(payout, by=people["finance"], crypto=CryptoProof("bitcoin", "0.1", "xyz"))
    assert "transaction_id" in bad.value.error_dict
    with pytest.raises(PermissionDenied):
        services.mark_paid(payout, by=people["editor"], crypto=good)
    cash = services.request_payout(
        payout.need, amount=100, channel="cash", recipient="x", purpose="y", by=people["finance"]
    )
    services.approve_payout(cash, by=people["finance2"])
    with pytest.raises(PayoutWrongState, match="Only a payout by crypto transfer"):
        services.mark_paid(cash, by=people["finance"], proof=receipt(), crypto=good)
    with pytest.raises(PayoutWrongState, match="Attach the proof"):
        services.mark_paid(cash, by=people["finance"])
    assert not Transfer.objects.filter(group__reference__in=[payout.reference, cash.reference]).exists()
    # A crypto payout may carry a receipt as well as its transaction.
    services.mark_paid(payout, by=people["finance"], proof=receipt(), crypto=good)
    assert payout.proof_name and payout.crypto_network == "bitcoin"


def test_the_database_wants_a_proof_for_a_paid_payout(demo, people):
    payout = approved_crypto_payout(demo, people)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payout.objects.filter(pk=payout.pk).update(status="paid", paid_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        cash = services.request_payout(
            payout.need, amount=100, channel="cash", recipient="x", purpose="y", by=people["finance"]
        )
        Payout.objects.filter(pk=cash.pk).update(crypto_network="bitcoin")
    Payout.objects.filter(pk=payout.pk).update(status="paid", paid_at=timezone.now(), crypto_network="bitcoin")


@pytest.mark.parametrize(
    "role, status",
    [("none", 403), ("editor", 403), ("finance", 200), ("admin", 403)],
)
def test_only_finance_opens_the_crypto_pay_screen_and_reads_the_transaction(client, demo, people, role, status):
    payout = approved_crypto_payout(demo, people)
    paid = services.mark_paid(
        approved_crypto_payout(demo, people, amount=100),
        by=people["finance"],
        crypto=CryptoProof("bitcoin", "0.1", TXID, ADDRESS),
    )
    user = factories.staff_user(superuser=False) if role == "none" else factories.role_user(role)
    client.force_login(user)
    assert client.get(PAY.format(payout.pk, "pay")).status_code == status
    response = client.post(
        PAY.format(payout.pk, "pay"), {"network": "bitcoin", "coin_amount": "1", "transaction_id": TXID}
    )
    assert response.status_code == (302 if role == "finance" else 403)
    detail = client.get(f"/backoffice/disbursements/payout/{paid.pk}/change/")
    assert detail.status_code == status
    assert (TXID in detail.content.decode()) == (role == "finance")
    if role != "finance":
        assert Payout.objects.get(pk=payout.pk).status == PayoutStatus.APPROVED
        with pytest.raises(PermissionDenied):
            services.read_crypto_proof(paid, by=user)


def test_a_purge_destroys_the_transaction_and_keeps_the_books(demo, people, django_capture_on_commit_callbacks):
    from zbor.campaigns.private import purge_private

    crypto_gift(demo, 30000)
    payout = approved_crypto_payout(demo, people)
    services.mark_paid(payout, by=people["finance"], crypto=CryptoProof("usdt_tron", "321.5", TXID, ""))
    with django_capture_on_commit_callbacks(execute=True):
        purge_private(demo.beneficiary, by=None, label="test")
    payout.refresh_from_db()
    assert (payout.crypto_proof_secret, payout.crypto_amount, payout.crypto_network) == ("", "", "usdt_tron")
    assert payout.status == PayoutStatus.PAID and services.read_crypto_proof(payout, by=people["finance"]) is None
    assert len(group_lines(payout)) == 2
    assert reconcile().ok, reconcile().lines()


def test_a_key_rotation_re_encrypts_the_transaction(demo, people, settings):
    from cryptography.fernet import Fernet

    from zbor.accounts.keys import rotate_encryption_keys

    payout = approved_crypto_payout(demo, people)
    services.mark_paid(payout, by=people["finance"], crypto=CryptoProof("bitcoin", "0.1", TXID, ADDRESS))
    old_key, new_key = settings.ZBOR_ENCRYPTION_KEYS[0], Fernet.generate_key().decode()
    settings.ZBOR_ENCRYPTION_KEYS = [new_key, old_key]
    rotate_encryption_keys(by=people["finance"])
    settings.ZBOR_ENCRYPTION_KEYS = [new_key]
    payout.refresh_from_db()
    sent = services.read_crypto_proof(payout, by=people["finance"])
    assert sent is not None and sent.transaction_id == TXID
