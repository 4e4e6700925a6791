"""Issue 18's walk through the demo in a real browser: give €10 a month to the flagship campaign
with the demo provider, bill a second month, see both payments booked and "1 person gives
monthly" on the page, then stop the gift through the link the donor is emailed."""

import re

from django.core import mail
from django.core.management import call_command

from tests.browser import needs_chromium
from zbor.donations.models import Donation, DonationStatus, MonthlyGift, MonthlyStatus
from zbor.ledger.models import TransferGroup

pytestmark = needs_chromium

PAGE = "/en/campaigns/from-prison-to-family/"
EMAIL = "monthly.walk@example.org"


def _forget_counts():
    """The page reads its counts at most every few minutes; a visitor sees a new supporter
    within that time. The test does not wait: it forgets what was read."""
    from django.core.cache import cache

    from zbor.donations.selectors import DONOR_COUNTS
    from zbor.donations.services.monthly import SUPPORTER_COUNTS

    cache.clear()
    DONOR_COUNTS.clear()
    SUPPORTER_COUNTS.clear()


def test_a_monthly_demo_gift_from_the_form_to_the_second_month_and_its_stop(browser, demo_server):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(demo_server.url + PAGE + "donate/")
    page.get_by_label("Monthly", exact=True).check()
    page.locator(".monthly-presets label", has_text="€10").click()
    page.get_by_label(re.compile("^Email")).fill(EMAIL)
    page.get_by_label("Test payment (demo)").check()
    page.get_by_role("button", name="Donate").click()
    page.wait_for_url("**/test-checkout/**")
    page.get_by_role("button", name=re.compile("Complete")).click()
    page.wait_for_url("**/monthly/**")

    gift = MonthlyGift.objects.get(email=EMAIL)
    assert (gift.status, gift.amount, gift.currency, gift.provider) == (MonthlyStatus.ACTIVE, 1000, "EUR", "demo")
    call_command("demo_advance_month", stdout=open("/dev/null", "w"))  # noqa: SIM115

    payments = Donation.objects.filter(monthly_gift=gift, status=DonationStatus.SUCCEEDED)
    assert sorted(payments.values_list("amount", flat=True)) == [1000, 1000]
    for payment in payments:
        assert TransferGroup.objects.filter(key=f"{payment.reference}:succeeded").count() == 1

    _forget_counts()
    page.goto(demo_server.url + PAGE)
    assert page.get_by_text("1 person gives monthly").first.is_visible()

    page.get_by_role("link", name="Manage my monthly gift").click()
    page.get_by_label("Your email").fill(EMAIL)
    page.get_by_role("button", name="Email me a link").click()
    assert page.get_by_text("If this address gives monthly, a link is on its way.").is_visible()
    link = re.search(r"https?://\S+/en/monthly/manage/\S+/", mail.outbox[-1].body).group(0)
    assert EMAIL not in link
    page.goto(link)
    page.get_by_role("link", name="Stop this monthly gift").click()
    page.get_by_role("button", name="Yes, stop my monthly gift").click()
    assert page.locator("h1").inner_text() == "Your monthly gift has stopped"

    gift.refresh_from_db()
    assert (gift.status, gift.email) == (MonthlyStatus.STOPPED, "")
    _forget_counts()
    # A new browser context: the page says max-age=1, and this one may still hold it.
    later = browser.new_page()
    later.goto(demo_server.url + PAGE)
    assert later.get_by_text("gives monthly").count() == 0
