"""The "Monthly gifts" screen: finance sees the gifts and their payments (never the email) and
stops one; editors, admins and staff without a role do not see it."""

import pytest
from django.urls import reverse

from tests import factories
from tests.backoffice import _monthly_gift
from zbor.accounts.models import AuditEvent
from zbor.donations.models import MonthlyStatus, StopReason

pytestmark = pytest.mark.django_db

LIST = reverse("admin:donations_monthlygift_changelist")


def test_finance_sees_the_list_and_payments_without_the_email(client, campaign):
    gift = _monthly_gift(campaign)
    client.force_login(factories.role_user("finance"))
    page = client.get(LIST).content.decode()
    assert gift.reference in page and "€10" in page and "monthly@example.org" not in page
    detail = client.get(reverse("admin:donations_monthlygift_change", args=[gift.pk])).content.decode()
    assert "monthly@example.org" not in detail and "€10" in detail
    assert "payments" in detail.lower()


def test_finance_stops_a_gift(client, campaign):
    gift = _monthly_gift(campaign)
    client.force_login(factories.role_user("finance"))
    response = client.post(LIST, {"action": "stop", "_selected_action": [gift.pk]})
    assert response.status_code == 302
    gift.refresh_from_db()
    assert gift.status == MonthlyStatus.STOPPED and gift.stop_reason == StopReason.STAFF
    assert AuditEvent.objects.filter(action="monthly_gift.stop", object_id=str(gift.pk)).exists()


@pytest.mark.parametrize("role", ["none", "editor", "admin"])
def test_other_roles_do_not_see_it(client, campaign, role):
    _monthly_gift(campaign)
    user = factories.staff_user(superuser=False) if role == "none" else factories.role_user(role)
    client.force_login(user)
    assert client.get(LIST).status_code == 403


def test_a_month_whose_amount_differs_is_in_finances_review_queue(client, campaign):
    from zbor.donations.events import receive_event
    from zbor.payments.demo import DemoProvider

    gift = _monthly_gift(campaign)
    receive_event(DemoProvider.monthly_paid(gift.reference, "demo_inv_odd", amount=1234, currency="EUR"))
    client.force_login(factories.role_user("finance"))
    page = client.get(reverse("admin:donations_paymentinreview_changelist")).content.decode()
    assert "€12.34" in page
