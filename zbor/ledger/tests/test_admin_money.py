"""Finance reads the ledger in money and names: "€683", "Need: Need 1 (Help to start again)",
never minor units ("68300") or bare account codes alone."""

from __future__ import annotations

import re

import pytest

from tests import factories
from tests.helpers import text_of
from zbor.campaigns.models import Need
from zbor.ledger.models import Account, TransferGroup
from zbor.ledger.names import account_names

pytestmark = pytest.mark.django_db


@pytest.fixture
def earmarked(campaign):
    """€500 given to the campaign's first need."""
    from zbor.donations.services import record_demo_donation

    need = Need.objects.get(campaign=campaign, position=0)
    record_demo_donation(campaign, amount=50000, need=need)
    return campaign


@pytest.fixture
def finance(client):
    client.force_login(factories.role_user("finance", "fin-ledger"))
    return client


def test_account_codes_have_readable_names(funded_campaign):
    need = Need.objects.get(campaign=funded_campaign, position=0)
    names = account_names(
        [f"need:{need.pk}", f"payouts:need:{need.pk}", f"campaign:{funded_campaign.pk}:unallocated"]
        + ["provider:bank:EUR", "fees:stripe:EUR", "refunds:demo:EUR", "need:999999", "odd"]
    )
    assert names[f"need:{need.pk}"] == "Need: Need 1 (Help to start again)"
    assert names[f"payouts:need:{need.pk}"] == "Paid out: Need 1 (Help to start again)"
    assert names[f"campaign:{funded_campaign.pk}:unallocated"] == "Beyond the goal: Help to start again"
    assert names["provider:bank:EUR"] == "Held by Bank transfer (EUR)"
    assert names["fees:stripe:EUR"] == "Fees to Card (EUR)"
    assert names["refunds:demo:EUR"] == "Refunded through Test payment (demo) (EUR)"
    assert names["need:999999"] == "Need: #999999" and names["odd"] == "odd"


def test_the_accounts_list_shows_names_and_money_in_major_units(finance, earmarked, django_assert_max_num_queries):
    need = Need.objects.get(campaign=earmarked, position=0)
    with django_assert_max_num_queries(12):
        page = text_of(finance.get("/backoffice/ledger/account/").content.decode())
    assert "Need: Need 1 (Help to start again)" in page and "Held by Test payment (demo) (EUR)" in page
    assert "€500" in page
    assert not re.search(r"\b50000\b", page)
    account = Account.objects.get(code=f"need:{need.pk}")
    detail = text_of(finance.get(f"/backoffice/ledger/account/{account.pk}/change/").content.decode())
    assert "Need: Need 1 (Help to start again)" in detail and "€500" in detail and "50000" not in detail


def test_the_accounts_list_reads_names_in_a_fixed_number_of_queries(finance):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries():
        with CaptureQueriesContext(connection) as context:
            assert finance.get("/backoffice/ledger/account/").status_code == 200
        return len(context.captured_queries)

    factories.campaign(donations=(1000,), needs=(1000,))
    few = queries()
    for _ in range(4):
        factories.campaign(donations=(1000,), needs=(1000,))
    assert queries() == few


def test_a_transfer_group_shows_its_transfers_in_money_between_named_accounts(finance, earmarked):
    group = TransferGroup.objects.get(kind="donation")
    page = text_of(finance.get(f"/backoffice/ledger/transfergroup/{group.pk}/change/").content.decode())
    assert "Held by Test payment (demo) (EUR)" in page and "Need: Need 1 (Help to start again)" in page
    assert "€500" in page and "50000" not in page
