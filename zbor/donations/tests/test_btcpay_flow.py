"""A Bitcoin donation end to end: the donate form starts an invoice at the fake BTCPay Server
(tests/fake_btcpay.py) through the real HTTP client, BTCPay's signed webhooks are posted to
/webhooks/btcpay/, and `zbor reconcile --btcpay` reads the store back."""

import io
import json
import re
import uuid

import pytest
from django.core.management import call_command

from tests import factories
from tests.helpers import CAMPAIGN
from zbor.donations import services
from zbor.donations.models import Donation, DonationStatus
from zbor.donations.reconcile import reconcile
from zbor.ledger.models import Account, TransferGroup
from zbor.payments import btcpay as btcpay_module
from zbor.payments.models import EventStatus, PaymentEventRecord

pytestmark = pytest.mark.django_db


def give(client, amount="25", **extra):
    """The donate form, Bitcoin chosen (no proof of work: it works without JavaScript)."""
    response = client.post(
        f"/en/campaigns/{CAMPAIGN}/donate/",
        {"amount": amount, "method": "btcpay", "idempotency_key": uuid.uuid4().hex, **extra},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    return Donation.objects.get(provider="btcpay", checkout_reference=response["Location"].rsplit("/", 1)[1])


def post(client, signed):
    body, headers = signed
    return client.post(
        "/webhooks/btcpay/", body, content_type="application/json", headers={"BTCPay-Sig": headers["BTCPay-Sig"]}
    )


def collected(client):
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(f"/en/campaigns/{CAMPAIGN}/").content.decode()))
    return re.search(r"Collected: (€[\d,.]+) of €2,000", text).group(1)


def reconcile_btcpay() -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("reconcile", "--btcpay", stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


def donation_groups() -> int:
    return TransferGroup.objects.filter(key__endswith=":succeeded", reference__startswith="donation:").count()


def test_the_donor_is_sent_to_the_invoice_which_names_only_the_donation(client, funded_campaign, btcpay):
    personal = {"public_name": "Yarynka Quillfeather", "email": "yaryna.q@example.org", "message": "Trymajsia xq7"}
    donation = give(client, **personal)
    assert donation.email == personal["email"]
    for request in btcpay.requests:
        sent = (request["path"] + json.dumps(request["query"]) + request["body"].decode()).lower()
        assert not any(word in sent for word in ("yarynka", "quillfeather", "yaryna", "trymajsia", CAMPAIGN.lower()))
    invoice = btcpay.invoices[btcpay.only_invoice()]
    assert donation.checkout_reference == invoice["id"]
    assert donation.checkout_url == f"{btcpay.url}/i/{invoice['id']}"
    [create] = [r for r in btcpay.requests if r["method"] == "POST"]
    sent = json.loads(create["body"])
    assert sent["metadata"] == {"orderId": str(donation.public_id)}
    assert (sent["amount"], sent["currency"]) == ("25.00", "EUR")
    assert str(donation.public_id) in sent["checkout"]["redirectURL"]
    assert CAMPAIGN not in create["body"].decode()


def test_a_settled_invoice_books_the_donation_at_what_arrived(client, funded_campaign, btcpay):
    donation = give(client)
    invoice_id = donation.checkout_reference
    btcpay.pay(invoice_id)
    assert post(client, btcpay.webhook(invoice_id, "InvoiceReceivedPayment")).content == b"ignored"
    assert post(client, btcpay.webhook(invoice_id, "InvoiceProcessing")).content == b"ignored"
    assert Donation.objects.get(pk=donation.pk).status == DonationStatus.PENDING
    btcpay.settle(invoice_id)
    response = post(client, btcpay.webhook(invoice_id, "InvoiceSettled"))
    assert (response.status_code, response.content) == (200, b"processed")
    donation.refresh_from_db()
    assert (donation.status, donation.amount, donation.fee) == (DonationStatus.SUCCEEDED, 2500, 0)
    assert Account.objects.get(code="provider:btcpay:EUR").debit_balance == 2500
    assert collected(client) == "€708"
    record = PaymentEventRecord.objects.get()
    assert record.event_id == f"{invoice_id}:InvoiceSettled"
    assert record.data["extra"] == {"coin": "BTC", "coin_amount": "0.00041667", "rate": "60000.00", "overpaid": False}
    assert reconcile().ok
    assert reconcile_btcpay() == (0, reconcile_btcpay()[1])
    assert "BTCPay settled invoices checked: 1" in reconcile_btcpay()[1]


def test_duplicated_redelivered_and_out_of_order_deliveries_book_once(client, funded_campaign, btcpay):
    donation = give(client)
    invoice_id = donation.checkout_reference
    btcpay.pay(invoice_id)
    btcpay.settle(invoice_id)
    settled = btcpay.webhook(invoice_id, "InvoiceSettled")
    assert post(client, settled).status_code == 200  # before its Processing
    assert post(client, btcpay.webhook(invoice_id, "InvoiceProcessing")).status_code == 200
    assert post(client, settled).status_code == 200  # the same delivery again
    assert post(client, btcpay.redelivery(settled[0])).status_code == 200  # BTCPay's redelivery
    assert post(client, btcpay.webhook(invoice_id, "InvoiceSettled")).status_code == 200  # a new delivery
    assert post(client, btcpay.webhook(invoice_id, "InvoiceExpired")).status_code == 200  # after settling
    stale = btcpay.webhook(invoice_id, "InvoiceExpired", partiallyPaid=True)  # from before the rest arrived
    assert post(client, stale).content == b"ignored"
    donation.refresh_from_db()
    assert (donation.status, donation.amount) == (DonationStatus.SUCCEEDED, 2500)
    assert donation_groups() == 3  # two earlier gifts, this one
    assert sorted(PaymentEventRecord.objects.values_list("event_id", flat=True)) == [
        f"{invoice_id}:InvoiceExpired",
        f"{invoice_id}:InvoiceSettled",
    ]
    assert collected(client) == "€708"
    assert reconcile().ok


def test_a_wrong_signature_is_refused_and_nothing_stored(client, funded_campaign, btcpay):
    donation = give(client)
    btcpay.pay(donation.checkout_reference)
    btcpay.settle(donation.checkout_reference)
    body, headers = btcpay.webhook(donation.checkout_reference, "InvoiceSettled")
    forged = {"BTCPay-Sig": "sha256=" + "0" * 64}
    assert post(client, (body, forged)).status_code == 400
    assert post(client, (body.replace(b"InvoiceSettled", b"InvoiceSettled "), headers)).status_code == 400
    assert client.post("/webhooks/btcpay/", body, content_type="application/json").status_code == 400
    assert not PaymentEventRecord.objects.exists()
    assert Donation.objects.get(pk=donation.pk).status == DonationStatus.PENDING


def test_btcpay_silent_while_a_webhook_is_read_asks_for_it_again(client, funded_campaign, btcpay):
    donation = give(client)
    btcpay.pay(donation.checkout_reference)
    btcpay.settle(donation.checkout_reference)
    signed = btcpay.webhook(donation.checkout_reference, "InvoiceSettled")
    btcpay.fail_next = 1
    assert post(client, signed).status_code == 503
    assert not PaymentEventRecord.objects.exists()
    assert post(client, btcpay.redelivery(signed[0])).status_code == 200
    assert Donation.objects.get(pk=donation.pk).status == DonationStatus.SUCCEEDED


def test_an_invoice_that_expires_unpaid_or_turns_invalid_ends_the_donation(client, funded_campaign, btcpay):
    expired, invalid = give(client), give(client)
    btcpay.expire(expired.checkout_reference)
    assert post(client, btcpay.webhook(expired.checkout_reference, "InvoiceExpired")).content == b"processed"
    btcpay.pay(invalid.checkout_reference)
    btcpay.invalidate(invalid.checkout_reference)
    assert post(client, btcpay.webhook(invalid.checkout_reference, "InvoiceInvalid")).content == b"processed"
    assert Donation.objects.get(pk=expired.pk).status == DonationStatus.EXPIRED
    assert Donation.objects.get(pk=invalid.pk).status == DonationStatus.FAILED
    assert collected(client) == "€683"
    assert reconcile().ok


def test_an_underpaid_invoice_waits_for_finance_who_accepts_what_arrived(client, funded_campaign, btcpay):
    donation = give(client)
    invoice_id = donation.checkout_reference
    btcpay.pay(invoice_id, "0.0002")  # €12 of €25
    btcpay.expire(invoice_id)
    assert post(client, btcpay.webhook(invoice_id, "InvoiceExpired")).content == b"review"
    record = PaymentEventRecord.objects.get()
    assert (record.data["amount"], record.pledged) == (1200, 2500)
    assert record.data["extra"]["review"] == "partially_paid"
    assert Donation.objects.get(pk=donation.pk).status == DonationStatus.PENDING
    assert collected(client) == "€683"
    report = reconcile()
    assert not report.ok and any("waiting for finance" in p for p in report.problems)
    services.accept_payment(record, by=factories.role_user("finance"))
    donation.refresh_from_db()
    assert (donation.status, donation.amount) == (DonationStatus.SUCCEEDED, 1200)
    assert Account.objects.get(code="provider:btcpay:EUR").debit_balance == 1200
    assert collected(client) == "€695"
    code, out = reconcile_btcpay()
    assert code == 0, out


def test_an_overpaid_invoice_waits_for_finance_who_may_return_it(client, funded_campaign, btcpay):
    donation = give(client)
    invoice_id = donation.checkout_reference
    btcpay.pay(invoice_id, "0.005")  # €300 for a €25 pledge
    btcpay.settle(invoice_id)
    assert post(client, btcpay.webhook(invoice_id, "InvoiceSettled")).content == b"review"
    record = PaymentEventRecord.objects.get()
    assert (record.data["amount"], record.data["extra"]["overpaid"]) == (30000, True)
    services.return_payment(record, reason="sent back from the wallet", by=factories.role_user("finance"))
    assert PaymentEventRecord.objects.get().status == EventStatus.DECLINED
    assert Donation.objects.get(pk=donation.pk).status == DonationStatus.PENDING
    assert collected(client) == "€683"
    code, out = reconcile_btcpay()
    assert code == 0, out  # returned by finance: settled


def test_money_after_expiry_waits_for_finance_even_when_it_is_the_pledge(client, funded_campaign, btcpay):
    donation = give(client)
    invoice_id = donation.checkout_reference
    btcpay.expire(invoice_id)
    assert post(client, btcpay.webhook(invoice_id, "InvoiceExpired")).content == b"processed"
    btcpay.pay(invoice_id)  # the whole amount, too late
    late = btcpay.webhook(invoice_id, "InvoiceReceivedPayment")
    assert json.loads(late[0])["afterExpiration"] is True
    assert post(client, late).content == b"review"
    assert post(client, btcpay.webhook(invoice_id, "InvoicePaymentSettled")).content == b"review"  # the same money
    record = PaymentEventRecord.objects.get(status=EventStatus.REVIEW)
    assert (record.data["amount"], record.data["extra"]["review"]) == (2500, "paid_after_expiration")
    assert PaymentEventRecord.objects.count() == 2
    assert Donation.objects.get(pk=donation.pk).status == DonationStatus.EXPIRED
    assert collected(client) == "€683"
    services.accept_payment(record, by=factories.role_user("finance"))
    assert Donation.objects.get(pk=donation.pk).status == DonationStatus.SUCCEEDED
    assert collected(client) == "€708"
    code, out = reconcile_btcpay()
    assert code == 0, out  # accepted from an expired invoice BTCPay marks PaidLate


# zbor reconcile --btcpay ------------------------------------------------------------------


def test_reconcile_books_a_settled_invoice_whose_webhook_never_came_once(client, funded_campaign, btcpay):
    donation = give(client)
    invoice_id = donation.checkout_reference
    btcpay.pay(invoice_id)
    btcpay.settle(invoice_id)
    code, out = reconcile_btcpay()
    assert code == 0, out
    assert f"BOOKED: BTCPay invoice {invoice_id}: 25.00 EUR settled, booked now" in out
    assert Donation.objects.get(pk=donation.pk).status == DonationStatus.SUCCEEDED
    assert post(client, btcpay.webhook(invoice_id, "InvoiceSettled")).content == b"processed"  # late: the same event
    assert PaymentEventRecord.objects.count() == 1
    assert donation_groups() == 3
    assert collected(client) == "€708"
    assert reconcile_btcpay() == (0, reconcile_btcpay()[1])
    assert "BOOKED" not in reconcile_btcpay()[1]


def test_reconcile_reads_every_page_of_the_store(client, funded_campaign, btcpay, monkeypatch):
    monkeypatch.setattr(btcpay_module, "PAGE", 2)
    donations = [give(client) for _ in range(5)]
    for donation in donations:
        btcpay.pay(donation.checkout_reference)
        btcpay.settle(donation.checkout_reference)
    code, out = reconcile_btcpay()
    assert code == 0, out
    assert "BTCPay settled invoices checked: 5" in out and out.count("BOOKED") == 5
    assert {r["query"]["skip"][0] for r in btcpay.requests if r["query"].get("status") == ["Settled"]} >= {
        "0",
        "2",
        "4",
    }
    assert collected(client) == "€808"


def test_reconcile_reports_what_btcpay_does_not_hold_as_zbor_does(client, funded_campaign, btcpay):
    booked, unknown_amount = give(client), give(client, "30")
    for donation in (booked, unknown_amount):
        btcpay.pay(donation.checkout_reference)
        btcpay.settle(donation.checkout_reference)
        post(client, btcpay.webhook(donation.checkout_reference, "InvoiceSettled"))
    btcpay.invalidate(booked.checkout_reference)  # staff marked it invalid at BTCPay afterwards
    btcpay.invoices[unknown_amount.checkout_reference]["additionalStatus"] = "PaidOver"
    btcpay.pay(unknown_amount.checkout_reference, "0.0001")  # more arrived after the booking
    stray = btcpay.create(json.dumps({"amount": "5", "currency": "EUR"}).encode())[1]["id"]
    btcpay.pay(stray)
    btcpay.settle(stray)
    code, out = reconcile_btcpay()
    assert code == 1
    assert f"its BTCPay invoice {booked.checkout_reference} is Invalid" in out
    assert f"its BTCPay invoice {unknown_amount.checkout_reference} (Settled) brought 3600 EUR" in out
    assert f"BTCPay invoice {stray} (5 EUR) is settled, Zbor has no donation for it" in out


def test_reconcile_says_so_when_btcpay_cannot_be_read(client, funded_campaign, btcpay, settings):
    btcpay.fail_next = 1
    code, out = reconcile_btcpay()
    assert code == 1 and "BTCPay could not be read" in out
    settings.ZBOR_PAYMENT_PROVIDERS = ["bank"]
    from zbor.payments import registry

    registry._providers.cache_clear()
    code, out = reconcile_btcpay()
    assert code == 1 and "the btcpay provider is not configured" in out


def test_a_bitcoin_gift_is_refunded_by_hand_and_booked_at_approval(client, funded_campaign, btcpay):
    donation = give(client)
    btcpay.pay(donation.checkout_reference)
    btcpay.settle(donation.checkout_reference)
    post(client, btcpay.webhook(donation.checkout_reference, "InvoiceSettled"))
    donation.refresh_from_db()
    refund = services.request_refund(
        donation, amount=1000, reason="the donor asked", by=factories.role_user("finance")
    )
    services.approve_refund(refund, by=factories.role_user("finance"))
    refund.refresh_from_db()
    assert refund.status == "booked"
    assert Account.objects.get(code="refunds:btcpay:EUR").credit_balance == 1000
    assert collected(client) == "€698"
    assert reconcile().ok


def test_btcpay_down_when_giving_says_so_and_the_same_form_works_later(client, funded_campaign, btcpay):
    form = {"amount": "25", "method": "btcpay", "idempotency_key": uuid.uuid4().hex}
    btcpay.fail_next = 1
    response = client.post(f"/en/campaigns/{CAMPAIGN}/donate/", form)
    assert response.status_code == 400
    assert "The payment could not be started. Nothing was charged" in response.content.decode()
    assert not btcpay.invoices
    response = client.post(f"/en/campaigns/{CAMPAIGN}/donate/", form)
    assert response.status_code == 302 and response["Location"] == f"{btcpay.url}/i/{btcpay.only_invoice()}"
    response = client.post(f"/en/campaigns/{CAMPAIGN}/donate/", form)  # sent a third time
    assert response.status_code == 302 and len(btcpay.invoices) == 1
    assert Donation.objects.filter(provider="btcpay").count() == 1


def test_the_donate_form_may_be_sent_on_to_the_btcpay_server(client, funded_campaign, btcpay):
    policy = client.get(f"/en/campaigns/{CAMPAIGN}/donate/")["Content-Security-Policy"]
    [form_action] = [d for d in policy.split(";") if d.strip().startswith("form-action")]
    assert btcpay.url in form_action.split()


def test_reconcile_ends_what_btcpay_ended_without_a_webhook(client, funded_campaign, btcpay):
    expired, invalid, underpaid, open_ = give(client), give(client), give(client), give(client)
    btcpay.expire(expired.checkout_reference)
    btcpay.pay(invalid.checkout_reference)
    btcpay.invalidate(invalid.checkout_reference)
    btcpay.pay(underpaid.checkout_reference, "0.0001")
    btcpay.expire(underpaid.checkout_reference)
    code, out = reconcile_btcpay()
    assert code == 1  # the underpaid one waits for finance
    assert f"BOOKED: BTCPay invoice {expired.checkout_reference} is Expired: its pending donation ended now" in out
    assert f"BOOKED: BTCPay invoice {invalid.checkout_reference} is Invalid: its pending donation ended now" in out
    assert "waiting for finance" in out
    statuses = dict(Donation.objects.filter(provider="btcpay").values_list("pk", "status"))
    assert statuses == {
        expired.pk: DonationStatus.EXPIRED,
        invalid.pk: DonationStatus.FAILED,
        underpaid.pk: DonationStatus.PENDING,
        open_.pk: DonationStatus.PENDING,
    }
    # The webhooks arriving after all find the same events.
    post(client, btcpay.webhook(expired.checkout_reference, "InvoiceExpired"))
    post(client, btcpay.webhook(underpaid.checkout_reference, "InvoiceExpired"))
    assert PaymentEventRecord.objects.count() == 3
    assert PaymentEventRecord.objects.get(checkout_reference=underpaid.checkout_reference).status == EventStatus.REVIEW
    assert collected(client) == "€683"
