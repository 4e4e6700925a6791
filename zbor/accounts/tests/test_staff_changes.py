"""Four-eyes on people (issue 14): roles and password resets need a second admin, nobody
changes their own roles, and both steps are in the audit log."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from tests import factories
from zbor.accounts import staff_changes
from zbor.accounts.models import AuditEvent, StaffChangeRequest

pytestmark = pytest.mark.django_db
USERS = "/backoffice/auth/user/"
REQUESTS = "/backoffice/accounts/staffchangerequest/"


def _fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def _roles_form(user, **overrides):
    data = {
        "username": user.username,
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on",
        "groups": [g.pk for g in Group.objects.all()],
        "date_joined_0": "2026-11-29",
        "date_joined_1": "10:00:00",
        "last_login_0": "",
        "last_login_1": "",
    }
    data.update(overrides)
    return data


def test_an_admin_cannot_give_itself_roles_on_the_user_form(client):
    """Regression (issue 14): an admin could give itself every role, then read every
    beneficiary's identity."""
    me = factories.role_user("admin", "grabby")
    client.force_login(me)
    client.post(f"{USERS}{me.pk}/change/", _roles_form(me))
    me = _fresh(me)
    assert sorted(me.groups.values_list("name", flat=True)) == ["admin"] and not me.is_superuser
    assert not me.has_perm("campaigns.view_beneficiary_private")
    other = factories.role_user("finance", "colleague")
    client.post(f"{USERS}{other.pk}/change/", _roles_form(other))
    assert sorted(_fresh(other).groups.values_list("name", flat=True)) == ["finance"]


def test_an_admin_cannot_ask_for_its_own_roles_nor_approve_its_own_request(client):
    me, second = factories.role_user("admin", "me-admin"), factories.role_user("admin", "second-admin")
    with pytest.raises(staff_changes.StaffChangeError):
        staff_changes.request_roles(
            me, by=me, roles=["admin", "editor"], is_staff=True, is_superuser=False, reason="more"
        )
    # Another admin asks for me; I may not approve it — only a third admin.
    change = staff_changes.request_roles(
        me, by=second, roles=["admin", "editor"], is_staff=True, is_superuser=False, reason="cover"
    )
    client.force_login(me)
    response = client.post(f"{REQUESTS}{change.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 400 and "second admin" in response.content.decode()
    client.force_login(second)
    assert client.post(f"{REQUESTS}{change.pk}/decide/", {"decision": "approve"}).status_code == 400
    assert not _fresh(me).groups.filter(name="editor").exists()
    third = factories.role_user("admin", "third-admin")
    client.force_login(third)
    assert client.post(f"{REQUESTS}{change.pk}/decide/", {"decision": "approve"}).status_code == 302
    assert _fresh(me).groups.filter(name="editor").exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="staff_change").values_list("action", "actor_label", "fields")
    )
    assert ("staff_change.request", "second-admin", ["groups"]) in actions
    assert ("staff_change.approve", "third-admin", ["groups"]) in actions
    assert AuditEvent.objects.filter(action="auth.user.roles.change", object_id=str(me.pk), actor=third).exists()


def test_role_change_through_the_screens_needs_a_second_admin(client):
    asker, approver = factories.role_user("admin", "asker"), factories.role_user("admin", "approver")
    person = factories.role_user("finance", "person")
    client.force_login(asker)
    assert client.get(f"{USERS}{person.pk}/change/").status_code == 200
    assert client.get(f"{REQUESTS}ask/{person.pk}/roles/").status_code == 200
    editor = Group.objects.get(name="editor")
    response = client.post(
        f"{REQUESTS}ask/{person.pk}/roles/", {"roles": [editor.pk], "is_staff": "on", "reason": "moved to editing"}
    )
    assert response.status_code == 302
    change = StaffChangeRequest.objects.get()
    assert change.roles_before == ["finance"] and change.roles_after == ["editor"]
    assert list(_fresh(person).groups.values_list("name", flat=True)) == ["finance"]  # nothing yet
    page = client.get(f"{REQUESTS}{change.pk}/decide/").content.decode()
    assert "finance → editor" in page
    client.force_login(approver)
    assert client.post(f"{REQUESTS}{change.pk}/decide/", {"decision": "approve"}).status_code == 302
    assert list(_fresh(person).groups.values_list("name", flat=True)) == ["editor"]
    assert client.post(f"{REQUESTS}{change.pk}/decide/", {"decision": "reject"}).status_code == 400  # decided already
    assert client.get(f"{REQUESTS}{change.pk}/decide/").status_code == 302  # to the request's own page


def test_a_rejected_request_changes_nothing_and_is_audited(client):
    asker, approver = factories.role_user("admin", "asker2"), factories.role_user("admin", "approver2")
    person = factories.role_user("editor", "person2")
    change = staff_changes.request_roles(person, by=asker, roles=[], is_staff=False, is_superuser=False, reason="left")
    client.force_login(approver)
    assert client.post(f"{REQUESTS}{change.pk}/decide/", {"decision": "reject"}).status_code == 302
    person = _fresh(person)
    assert person.is_staff and person.groups.filter(name="editor").exists()
    assert AuditEvent.objects.filter(action="staff_change.reject", actor=approver).exists()


def test_password_resets_need_a_second_admin_and_the_direct_form_is_refused(client):
    """Regression (issue 14): an admin could reset other staff members' passwords alone."""
    asker, approver = factories.role_user("admin", "pw-asker"), factories.role_user("admin", "pw-approver")
    person = factories.role_user("finance", "pw-person")
    client.force_login(asker)
    direct = client.post(
        f"{USERS}{person.pk}/password/", {"password1": "a new long secret 123", "password2": "a new long secret 123"}
    )
    assert direct.status_code == 403
    assert (
        client.get(f"{USERS}999999/password/").status_code == 403
    )  # checked before the lookup: ids cannot be counted
    assert _fresh(person).check_password("correct horse battery")
    assert client.post(f"{REQUESTS}ask/{person.pk}/password/", {"reason": "lost it"}).status_code == 302
    change = StaffChangeRequest.objects.get(kind="password")
    assert _fresh(person).check_password("correct horse battery")  # nothing until approved
    client.force_login(approver)
    assert client.post(f"{REQUESTS}{change.pk}/decide/", {"decision": "approve"}).status_code == 302
    person = _fresh(person)
    assert not person.has_usable_password()
    assert AuditEvent.objects.filter(
        action="auth.user.password.change", object_id=str(person.pk), actor=approver
    ).exists()


def test_only_admins_reach_the_request_screens_and_the_permission_comes_first(client):
    person = factories.role_user("editor", "someone")
    change = staff_changes.request_password_reset(person, by=factories.role_user("admin"), reason="why")
    for role in ("editor", "finance"):
        client.force_login(factories.role_user(role))
        for url in (
            f"{REQUESTS}ask/{person.pk}/roles/",
            f"{REQUESTS}ask/999999/roles/",
            f"{REQUESTS}ask/{person.pk}/password/",
            f"{REQUESTS}{change.pk}/decide/",
            f"{REQUESTS}999999/decide/",
            REQUESTS,
            f"{REQUESTS}{change.pk}/change/",
        ):
            assert client.get(url).status_code == 403, (role, url)
        assert client.post(f"{REQUESTS}{change.pk}/decide/", {"decision": "approve"}).status_code == 403
    client.force_login(factories.role_user("admin"))
    assert client.get(REQUESTS).status_code == 200
    assert client.get(f"{REQUESTS}{change.pk}/change/").status_code == 200
    assert client.get(f"{REQUESTS}999999/decide/").status_code == 404
    assert client.get(f"{REQUESTS}ask/999999/roles/").status_code == 404


def test_only_a_superuser_asks_for_or_approves_superuser_status():
    a1, a2 = factories.role_user("admin"), factories.role_user("admin")
    person = factories.role_user("editor")
    with pytest.raises(staff_changes.StaffChangeError):
        staff_changes.request_roles(person, by=a1, roles=["editor"], is_staff=True, is_superuser=True, reason="x")
    root = factories.staff_user("root-1")
    change = staff_changes.request_roles(
        person, by=root, roles=["editor"], is_staff=True, is_superuser=True, reason="x"
    )
    with pytest.raises(staff_changes.StaffChangeError):
        staff_changes.approve(change, by=a2)
    staff_changes.approve(change, by=factories.staff_user("root-2"))
    assert _fresh(person).is_superuser


def test_new_accounts_have_no_password_and_no_role(client):
    client.force_login(factories.role_user("admin", "hr"))
    response = client.post(f"{USERS}add/", {"username": "newcomer", "first_name": "New", "last_name": "Comer"})
    assert response.status_code == 302
    newcomer = get_user_model().objects.get(username="newcomer")
    assert not newcomer.has_usable_password() and not newcomer.is_staff and not newcomer.groups.exists()
    assert AuditEvent.objects.filter(action="auth.user.add", object_id=str(newcomer.pk)).exists()


def test_a_stale_request_is_not_applied():
    a1, a2 = factories.role_user("admin"), factories.role_user("admin")
    person = factories.role_user("editor")
    change = staff_changes.request_roles(
        person, by=a1, roles=["editor", "finance"], is_staff=True, is_superuser=False, reason="x"
    )
    person.groups.clear()  # changed meanwhile (a break-glass superuser)
    with pytest.raises(staff_changes.StaffChangeError, match="changed since"):
        staff_changes.approve(change, by=a2)
    assert not _fresh(person).groups.exists()
