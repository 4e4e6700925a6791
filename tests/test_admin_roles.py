"""What each staff role may do in the admin: role changes audited, no new superusers, private
details kept to their beneficiary, at-risk campaigns frozen in review, moderation for editors."""

import pytest

from tests import factories
from zbor.campaigns.models import Status

pytestmark = pytest.mark.django_db


def test_role_changes_are_audited(client):
    from django.contrib.auth.models import Group

    from zbor.accounts.models import AuditEvent

    admin_user = factories.role_user("admin", "people-admin")
    client.force_login(admin_user)
    target = factories.staff_user("newcomer", superuser=False)
    data = {
        "username": "newcomer",
        "is_active": "on",
        "is_staff": "on",
        "groups": [Group.objects.get(name="finance").pk],
        "date_joined_0": "2026-11-29",
        "date_joined_1": "10:00:00",
        "last_login_0": "",
        "last_login_1": "",
    }
    response = client.post(f"/backoffice/auth/user/{target.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    event = AuditEvent.objects.get(action="auth.user.change", object_id=str(target.pk))
    assert event.actor_label == "people-admin" and event.fields


def test_an_admin_cannot_make_anyone_a_superuser(client):
    admin_user = factories.role_user("admin", "people-admin2")
    client.force_login(admin_user)
    data = {
        "username": "people-admin2",
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on",
        "date_joined_0": "2026-11-29",
        "date_joined_1": "10:00:00",
        "last_login_0": "",
        "last_login_1": "",
    }
    client.post(f"/backoffice/auth/user/{admin_user.pk}/change/", data)
    admin_user.refresh_from_db()
    assert not admin_user.is_superuser


def test_private_details_never_prefill_another_beneficiarys_form(client):
    from zbor.campaigns import private

    editor = factories.role_user("editor", "ed-a")
    other = factories.role_user("editor", "ed-b")
    b = factories.beneficiary()
    private.write_private(b, by=editor, real_name="Hanna Realname", contacts="+375 29 111")
    client.force_login(editor)
    assert "Hanna Realname" in client.get(f"/backoffice/campaigns/beneficiary/{b.pk}/change/").content.decode()
    client.force_login(other)
    assert "Hanna Realname" not in client.get("/backoffice/campaigns/beneficiary/add/").content.decode()


def test_a_campaign_in_review_is_frozen_and_at_risk_needs_two_approvals_one_an_admins():
    from zbor.campaigns import services

    editor, reviewer, admin = (
        factories.role_user("editor"),
        factories.role_user("editor"),
        factories.role_user("admin"),
    )
    campaign = factories.campaign(status=Status.DRAFT, beneficiary_at_risk=True)
    services.submit_for_review(campaign, by=editor)
    assert not services.approve_publication(
        campaign, by=admin, no_identifying_details=True
    )  # the admin alone is not enough
    assert services.approve_publication(campaign, by=reviewer, no_identifying_details=True)


def test_editors_cannot_untick_at_risk_nor_admins_edit_roles_or_devices(client):
    from django.contrib.auth.models import Group

    b = factories.beneficiary(at_risk=True)
    client.force_login(factories.role_user("editor"))
    page = client.get(f"/backoffice/campaigns/beneficiary/{b.pk}/change/").content.decode()
    assert 'name="at_risk"' not in page
    client.force_login(factories.role_user("admin"))
    group = Group.objects.get(name="admin")
    assert (
        client.post(f"/backoffice/auth/group/{group.pk}/change/", {"name": "admin", "permissions": []}).status_code
        == 403
    )
    assert client.get("/backoffice/accounts/authenticatordevice/").status_code == 403
    superuser = factories.staff_user("root")
    assert (
        client.post(
            f"/backoffice/auth/user/{superuser.pk}/password/", {"password1": "x" * 20, "password2": "x" * 20}
        ).status_code
        == 403
    )


def test_finance_cannot_moderate_words_of_support():
    from django.core.exceptions import PermissionDenied

    from zbor.donations.models import Donation
    from zbor.donations.services import moderate_message

    campaign = factories.campaign()
    donation = Donation.objects.create(
        campaign=campaign, amount=100, currency="EUR", provider="demo", idempotency_key="k" * 20, message="Hi"
    )
    with pytest.raises(PermissionDenied):
        moderate_message(donation, approve=True, by=factories.role_user("finance"))
