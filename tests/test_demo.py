"""`make run` loads the demo once; running it again changes nothing."""

import io

import pytest
from django.core.management import CommandError, call_command

from zbor.campaigns.models import Campaign, Need, Note, Status
from zbor.donations.models import Donation
from zbor.donations.selectors import campaign_money

pytestmark = pytest.mark.django_db


def _counts():
    return (Campaign.objects.count(), Need.objects.count(), Note.objects.count(), Donation.objects.count())


def test_load_demo_twice_adds_nothing_the_second_time():
    call_command("load_demo", stdout=io.StringIO())
    first = _counts()
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert _counts() == first
    assert "already present" in out.getvalue()


def test_demo_has_the_reference_campaign_and_campaigns_across_states():
    call_command("load_demo", stdout=io.StringIO())
    main = Campaign.objects.get(slug="from-prison-to-family")
    assert [n.amount for n in main.needs.order_by("position")] == [50000, 50000, 100000]
    assert campaign_money(main.pk, []).collected == 68300  # from recorded donations, through the ledger
    assert set(main.translations.values_list("language_code", flat=True)) == {"en", "ru", "be", "pl"}
    statuses = set(Campaign.objects.values_list("status", flat=True))
    assert {Status.PUBLISHED, Status.FUNDED, Status.CLOSED, Status.DRAFT} <= statuses
    assert len(set(Campaign.objects.values_list("category", flat=True))) >= 4


def test_demo_refuses_without_demo_settings(settings):
    settings.ZBOR_DEMO = False
    with pytest.raises(CommandError, match="only loaded with demo settings"):
        call_command("load_demo", stdout=io.StringIO())
    assert _counts() == (0, 0, 0, 0)


def test_demo_is_not_added_to_a_database_with_real_people():
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("real-finance-officer", password="x" * 20, is_staff=True)
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert "were not added" in out.getvalue()
    assert _counts() == (0, 0, 0, 0)
    assert not get_user_model().objects.filter(username="demo").exists()


def _needs_and_money(slug):
    campaign = Campaign.objects.get(slug=slug)
    needs = list(campaign.needs.order_by("position"))
    return campaign, needs, campaign_money(campaign.pk, [n.pk for n in needs])


@pytest.mark.parametrize("slug", ["dental-care-after-release", "lawyer-for-an-appeal"])
def test_closed_and_funded_demo_campaigns_show_money_per_need_and_payouts(client, slug):
    from zbor.disbursements.models import Payout, PayoutStatus

    call_command("load_demo", stdout=io.StringIO())
    campaign, needs, money = _needs_and_money(slug)
    assert campaign.status in (Status.CLOSED, Status.FUNDED)
    # What was given filled the needs, not "beyond the goal", and the needs add up to the total.
    assert money.beyond_goal == 0
    assert sum(money.raised_by_need.values()) == money.collected > 0
    assert all(money.raised_by_need[n.pk] == n.amount for n in needs)
    paid = Payout.objects.filter(campaign=campaign, status=PayoutStatus.PAID)
    assert sum(p.amount for p in paid) == money.collected
    page = client.get(f"/en/campaigns/{slug}/").content.decode()
    assert "Nothing has been paid out yet" not in page
    assert "beyond the goal" not in page


@pytest.mark.parametrize("zone", ["UTC", "Europe/Minsk", "America/Los_Angeles"])
def test_transparency_months_hold_the_payouts_on_the_days_the_pages_show(settings, zone):
    from django.utils import timezone

    from zbor.disbursements.models import Payout, PayoutStatus
    from zbor.disbursements.selectors import paid_on
    from zbor.public.selectors import transparency_figures

    settings.TIME_ZONE = zone
    call_command("load_demo", stdout=io.StringIO())
    with timezone.override(zone):
        expected: dict = {}
        for payout in Payout.objects.filter(status=PayoutStatus.PAID):
            assert paid_on(payout) == timezone.localtime(payout.paid_at).date()
            month = paid_on(payout).replace(day=1)
            key = (payout.currency, month)
            expected[key] = expected.get(key, 0) + payout.amount
        assert expected
        shown = {
            (currency, month): paid
            for currency, entry in transparency_figures().items()
            for month, (_collected, paid) in entry["months"].items()
            if paid
        }
    assert shown == expected


def test_every_demo_campaign_reads_in_english_and_russian_and_the_flagship_in_all_four():
    from zbor.campaigns.services import missing_languages

    call_command("load_demo", stdout=io.StringIO())
    for campaign in Campaign.objects.all():
        missing = missing_languages(campaign)
        assert "en" not in missing and "ru" not in missing, campaign.slug
        en, ru = (campaign.translations.get(language_code=code) for code in ("en", "ru"))
        assert ru.title != en.title, campaign.slug
        if campaign.is_fund:  # a programme fund: no person, no place
            assert campaign.beneficiary is None and en.location == ru.location == "", campaign.slug
            continue
        names = set(campaign.beneficiary.translations.values_list("language_code", flat=True))
        assert {"en", "ru"} <= names, campaign.slug
        # Place names are translated, not copied.
        assert en.location != ru.location, campaign.slug
    flagship = Campaign.objects.get(slug="from-prison-to-family")
    assert missing_languages(flagship) == []
    for update in flagship.updates.all():
        assert set(update.translations.values_list("language_code", flat=True)) == {"en", "ru", "be", "pl"}
    assert set(Note.objects.get(key="shizo").translations.values_list("language_code", flat=True)) == {
        "en",
        "ru",
        "be",
        "pl",
    }


@pytest.mark.parametrize("language", ["be", "pl"])
def test_the_flagship_page_has_no_english_in_belarusian_and_polish(client, language):
    call_command("load_demo", stdout=io.StringIO())
    page = client.get(f"/{language}/campaigns/from-prison-to-family/").content.decode()
    # No text stands in for a missing translation: nothing in the page's body is marked English
    # (the notice left says the foundation translated it).
    assert f'class="story-text" lang="{language}"' in page
    assert 'lang="en">' not in page.split("<main", 1)[1]
    assert "My name is Pavel" not in page and "Georgia" not in page


def test_demo_has_two_programme_funds_and_the_flagship_names_one(client):
    from zbor.campaigns.models import Kind

    call_command("load_demo", stdout=io.StringIO())
    funds = Campaign.objects.filter(kind=Kind.FUND).order_by("slug")
    assert [f.slug for f in funds] == ["emergency-relocation", "families-of-political-prisoners"]
    families = funds.get(slug="families-of-political-prisoners")
    assert families.yearly_target == 1200000 and families.status == Status.PUBLISHED
    assert all(campaign_money(f.pk, []).collected > 0 for f in funds)  # a few demo gifts each
    flagship = Campaign.objects.get(slug="from-prison-to-family")
    assert flagship.monthly_fund == families and flagship.monthly_target() == flagship
    for fund in funds:
        assert set(fund.translations.values_list("language_code", flat=True)) == {"en", "ru", "be", "pl"}
    # Since 1 January only: the demo's gifts (the last 60 days) may fall partly in last year.
    from zbor.donations.selectors import collected_since
    from zbor.money import Money, format_money
    from zbor.public.funds import year_start

    this_year = collected_since([families.pk], year_start())[families.pk]
    page = client.get("/en/campaigns/families-of-political-prisoners/").content.decode()
    assert f"This year: <strong>{format_money(Money(this_year, 'EUR'), 'en')}</strong> of €12,000" in page
    assert (
        "Programme fund" in page
        and "Closes in" not in page
        and "Closes today" not in page
        and "goal" not in page.lower()
    )


def test_the_demo_takes_applications_that_both_demo_logins_can_unlock():
    from django.contrib.auth import get_user_model

    from zbor.cases import keys
    from zbor.cases.models import Case, FoundationKey, Programme
    from zbor.cases.sealing import unb64, unseal_json
    from zbor.site.demo_cases import DEMO_CASEWORK_PASSPHRASE

    call_command("load_demo", stdout=io.StringIO())
    call_command("load_demo", stdout=io.StringIO())  # twice: still one key, three programmes
    assert sorted(Programme.objects.values_list("slug", flat=True)) == ["families", "health", "relocation"]
    for programme in Programme.objects.all():
        assert set(programme.translations.values_list("language_code", flat=True)) == {"en", "ru", "be", "pl"}
    (key,) = FoundationKey.objects.all()
    for username in ("demo", "demo-reviewer"):
        active, private = keys.open_copy(get_user_model().objects.get(username=username), DEMO_CASEWORK_PASSPHRASE)
        assert active == key and bytes(private.public_key) == unb64(key.public_key)
    # Two made-up applications wait in the queue, sealed: readable only with the key.
    cases = list(Case.objects.order_by("received_at"))
    assert [c.status for c in cases] == ["new", "new"]
    assert "Гродно" not in cases[0].answers
    assert unseal_json(cases[0].answers, private)["core"]["location"] == "Гродно"
