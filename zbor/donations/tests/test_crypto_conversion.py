"""Crypto sold for money (issue 19): the bank line that brought the money is marked a conversion
of crypto; the money moves from the crypto wallet to the bank at the book value finance enters,
the rest of that value is the cost of converting; no campaign figure moves; refusals write nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from tests import factories
from zbor.accounts.models import AuditEvent
from zbor.disbursements.tests.test_crypto_payouts import crypto_gift
from zbor.donations.conversions import convert_crypto
from zbor.donations.exceptions import DonationRefused, NotInReview
from zbor.donations.models import LineStatus
from zbor.donations.reconcile import reconcile
from zbor.donations.selectors import campaign_money
from zbor.donations.tests.test_unmatched_queue import unmatched
from zbor.ledger.models import Transfer
from zbor.ledger.names import account_names
from zbor.ledger.selectors import credit_balances, provider_holds

pytestmark = pytest.mark.django_db

LINES = "/backoffice/donations/bankstatementline/"


@pytest.fixture
def finance():
    return factories.role_user("finance", "fin-convert")


@pytest.fixture
def wallet(campaign):
    """€500.00 of crypto given through BTCPay: the wallet's book value."""
    crypto_gift(campaign, 50000)
    return campaign


def conversion_lines(line):
    return {
        (t.debit_account.code, t.credit_account.code, t.amount, t.kind)
        for t in Transfer.objects.filter(group__key=f"bankline:{line.key}:conversion").select_related(
            "debit_account", "credit_account"
        )
    }


def collected(campaign) -> int:
    return campaign_money(campaign.pk, []).collected


def test_money_from_selling_crypto_moves_from_the_wallet_to_the_bank_and_the_rest_is_a_fee(wallet, finance):
    before = collected(wallet)
    line = unmatched("KRAKEN PAYOUT", amount="480.00")
    convert_crypto(line, book_value=50000, note="0.0123 BTC sold on an exchange", by=finance)
    line.refresh_from_db()
    assert (line.status, line.reason) == (LineStatus.CONVERSION, "0.0123 BTC sold on an exchange")
    assert conversion_lines(line) == {
        ("provider:bank:EUR", "provider:btcpay:EUR", 48000, "conversion"),
        ("fees:btcpay:EUR", "provider:btcpay:EUR", 2000, "conversion"),
    }
    assert provider_holds("btcpay", "EUR") == 0 and provider_holds("bank", "EUR") == 48000
    assert credit_balances(["fees:btcpay:EUR"]) == {"fees:btcpay:EUR": -2000}
    assert collected(wallet) == before  # no public figure moves
    event = AuditEvent.objects.get(action="bank_statement_line.conversion", object_id=str(line.pk))
    assert event.actor == finance and "book_value" in event.fields
    assert reconcile().ok, reconcile().lines()
    names = account_names(["provider:btcpay:EUR", "fees:btcpay:EUR", "disbursed:btcpay:EUR"])
    assert names == {
        "provider:btcpay:EUR": "Crypto wallet, at book value (EUR)",
        "fees:btcpay:EUR": "Cost of converting crypto (EUR)",
        "disbursed:btcpay:EUR": "Paid out of the crypto wallet (EUR)",
    }


def test_sold_at_book_value_there_is_no_fee(wallet, finance):
    line = unmatched(amount="200.00")
    convert_crypto(line, book_value=20000, note="USDT sold", by=finance)
    assert conversion_lines(line) == {("provider:bank:EUR", "provider:btcpay:EUR", 20000, "conversion")}
    assert provider_holds("btcpay", "EUR") == 30000


@pytest.mark.parametrize(
    "book_value, note, error",
    [
        (47999, "sold", "less than what arrived"),
        (50001, "sold", "holds only €500"),
        (48000, "  ", "Say what was sold"),
    ],
)
def test_a_conversion_that_does_not_add_up_is_refused_and_writes_nothing(wallet, finance, book_value, note, error):
    line = unmatched(amount="480.00")
    transfers, audits = Transfer.objects.count(), AuditEvent.objects.count()
    with pytest.raises(DonationRefused, match=error):
        convert_crypto(line, book_value=book_value, note=note, by=finance)
    line.refresh_from_db()
    assert line.status == LineStatus.UNMATCHED and line.reason == ""
    assert (Transfer.objects.count(), AuditEvent.objects.count()) == (transfers, audits)


def test_a_wallet_in_another_currency_holds_nothing_here(wallet, finance):
    with pytest.raises(DonationRefused, match="holds only"):
        convert_crypto(unmatched(amount="100.00", currency="USD"), book_value=10000, note="sold", by=finance)


def test_a_line_is_converted_once_and_only_by_finance(wallet, finance):
    line = unmatched(amount="100.00")
    for role in ("editor", "admin"):
        with pytest.raises(PermissionDenied):
            convert_crypto(line, book_value=10000, note="sold", by=factories.role_user(role))
    convert_crypto(line, book_value=10000, note="sold", by=finance)
    with pytest.raises(NotInReview):
        convert_crypto(line, book_value=10000, note="sold", by=finance)
    assert provider_holds("btcpay", "EUR") == 40000


def action(client, lines, **data):
    return client.post(
        LINES, {"action": "crypto_conversion", "_selected_action": [line.pk for line in lines], **data}, follow=True
    )


def test_finance_marks_a_line_a_conversion_on_the_lines_screen(client, wallet, finance):
    line, other = unmatched(amount="450.00"), unmatched(amount="10.00")
    client.force_login(finance)
    refused = action(client, [line, other])
    assert "Select one line" in refused.content.decode()
    confirm = action(client, [line]).content.decode()
    assert 'name="book_value"' in confirm and "Conversion of crypto" in confirm
    wrong = action(client, [line], post="yes", book_value="400", reason="0.01 BTC sold").content.decode()
    assert "less than what arrived" in wrong
    bad = action(client, [line], post="yes", book_value="lots", reason="0.01 BTC sold").content.decode()
    assert 'name="book_value"' in bad  # the form again, with its error
    line.refresh_from_db()
    assert line.status == LineStatus.UNMATCHED
    action(client, [line], post="yes", book_value="460.50", reason="0.01 BTC sold")
    line.refresh_from_db()
    assert line.status == LineStatus.CONVERSION
    assert conversion_lines(line) == {
        ("provider:bank:EUR", "provider:btcpay:EUR", 45000, "conversion"),
        ("fees:btcpay:EUR", "provider:btcpay:EUR", 1050, "conversion"),
    }


@pytest.mark.parametrize("role", ["none", "editor", "admin"])
def test_other_roles_cannot_run_the_conversion(client, wallet, role):
    line = unmatched(amount="100.00")
    user = factories.staff_user(superuser=False) if role == "none" else factories.role_user(role)
    client.force_login(user)
    response = client.post(
        LINES,
        {
            "action": "crypto_conversion",
            "_selected_action": [line.pk],
            "post": "yes",
            "book_value": "100",
            "reason": "x",
        },
    )
    assert response.status_code == 403
    line.refresh_from_db()
    assert line.status == LineStatus.UNMATCHED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_conversions_racing_for_the_same_book_value_cannot_both_pass():
    """The wallet's account row is the lock: two lines converted at once, each for the wallet's
    whole book value, book one conversion; the other is refused, and the wallet never goes below zero."""
    import threading

    from django.db import connections

    from tests.postgres import run_here_or_on_postgres

    node = f"{__file__}::test_two_conversions_racing_for_the_same_book_value_cannot_both_pass"
    if not run_here_or_on_postgres(node):
        return
    crypto_gift(factories.campaign(), 50000)
    lines = [unmatched(amount="450.00"), unmatched(amount="450.00")]
    users = [factories.role_user("finance", f"converter{i}") for i in range(2)]
    barrier = threading.Barrier(2)
    outcomes = []

    def convert(line, user):
        try:
            barrier.wait()
            convert_crypto(line, book_value=50000, note="sold", by=user)
            outcomes.append("ok")
        except DonationRefused:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=convert, args=pair) for pair in zip(lines, users, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert provider_holds("btcpay", "EUR") == 0
