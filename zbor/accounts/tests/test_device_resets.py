"""A lost phone needs two admins; who may make links and resets, and the admin page that does it."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from tests import factories
from zbor import crypto
from zbor.accounts import enrolment
from zbor.accounts.models import AuditEvent, AuthenticatorDevice, DeviceReset, EnrolmentLink, RecoveryCodeDevice
from zbor.accounts.tests.enrolment_steps import (
    PASSWORD,
    _enrolled,
    admin,
    finish,
    new_staff,
    open_link,
)
from zbor.admin_base import ZborModelAdmin

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_otp_backoff")]


def test_nobody_makes_links_or_resets_for_themselves():
    boss = admin()
    with pytest.raises(enrolment.EnrolmentError):
        enrolment.create_link(boss, boss)
    with pytest.raises(enrolment.EnrolmentError):
        enrolment.request_reset(boss, boss)
    other = admin()
    reset = enrolment.request_reset(other, boss)
    with pytest.raises(enrolment.EnrolmentError):
        enrolment.approve_reset(boss, reset.pk)  # approving a reset of one's own devices


def test_a_lost_phone_is_reset_by_two_different_admins(client):
    user = factories.staff_user("lostphone", superuser=False)
    call_command("totp_enroll", "lostphone", stdout=io.StringIO())
    RecoveryCodeDevice.objects.create(user=user, name="recovery codes")
    a, b = admin("admin_a"), admin("admin_b")
    reset = enrolment.request_reset(a, user)
    with pytest.raises(enrolment.EnrolmentError):
        enrolment.approve_reset(a, reset.pk)  # the requester cannot approve
    with pytest.raises(enrolment.EnrolmentError):
        enrolment.request_reset(b, user)  # one open request at a time
    assert AuthenticatorDevice.objects.filter(user=user).exists()
    token = enrolment.approve_reset(b, reset.pk)
    assert (
        not AuthenticatorDevice.objects.filter(user=user).exists()
        and not RecoveryCodeDevice.objects.filter(user=user).exists()
    )
    with pytest.raises(enrolment.EnrolmentError):
        enrolment.approve_reset(b, reset.pk)  # approved once
    reset.refresh_from_db()
    assert reset.approved_by == b
    _page, device = open_link(client, token)
    assert finish(client, device, password=PASSWORD).status_code == 200  # the old password is still needed
    assert AuditEvent.objects.filter(action="account.device_reset_request", actor=a).exists()
    assert AuditEvent.objects.filter(action="account.device_reset_approve", actor=b).exists()


def test_only_a_superuser_manages_a_superuser():
    root = factories.staff_user("root2fa")
    with pytest.raises(enrolment.EnrolmentError):
        enrolment.request_reset(admin(), root)
    with pytest.raises(enrolment.EnrolmentError):
        enrolment.create_link(admin(), root)


def test_links_only_for_active_staff():
    donor_like = get_user_model().objects.create_user(username="notstaff")
    with pytest.raises(enrolment.EnrolmentError):
        enrolment.create_link(admin(), donor_like)


def _two_factor_url(user):
    return f"/backoffice/auth/user/{user.pk}/two-factor/"


@pytest.mark.parametrize(
    ("role", "expected"), [(None, 403), ("editor", 403), ("finance", 403), ("admin", 200), ("superuser", 200)]
)
def test_the_two_factor_page_is_for_admins_only(client, role, expected):
    target = new_staff()
    if role == "superuser":
        me = factories.staff_user("su2fa")
    elif role is None:
        me = factories.staff_user("norole", superuser=False)
    else:
        me = factories.role_user(role)
    client.force_login(me)
    assert client.get(_two_factor_url(target)).status_code == expected
    # A post by someone who may not: refused before anything is looked up or written.
    assert client.post(_two_factor_url(target), {"action": "link"}).status_code == expected
    # An id that does not exist answers the same to those who may not (nothing to count).
    missing = client.get("/backoffice/auth/user/999999/two-factor/").status_code
    assert missing == (403 if expected == 403 else 404)
    assert EnrolmentLink.objects.exists() == (expected == 200)


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(_two_factor_url(new_staff()))
    assert response.status_code == 302 and "/backoffice/login/" in response["Location"]


def test_the_admin_page_creates_a_link_and_runs_a_reset(client):
    target = new_staff()
    a, b = admin("page_a"), admin("page_b")
    client.force_login(a)
    change = client.get(f"/backoffice/auth/user/{target.pk}/change/").content.decode()
    assert _two_factor_url(target) in change
    response = client.post(_two_factor_url(target), {"action": "link"})
    assert response.status_code == 200
    url = response.context["link_url"]
    assert "/backoffice/enrol/" in url
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert enrolment.open_link(token).user == target
    # Enrolled (by the CLI here); then a lost phone.
    target.set_password(PASSWORD)
    target.save()
    call_command("totp_enroll", target.username, stdout=io.StringIO())
    assert client.post(_two_factor_url(target), {"action": "request_reset"}).status_code == 200
    reset = DeviceReset.objects.get()
    assert client.post(_two_factor_url(target), {"action": "approve_reset", "reset": reset.pk}).status_code == 400
    client.force_login(b)
    assert client.post(_two_factor_url(target), {"action": "approve_reset", "reset": "x"}).status_code == 400
    response = client.post(_two_factor_url(target), {"action": "approve_reset", "reset": reset.pk})
    assert response.status_code == 200 and response.context["link_url"]
    assert not AuthenticatorDevice.objects.filter(user=target).exists()


def test_an_admin_cannot_act_on_their_own_page(client):
    me = admin()
    client.force_login(me)
    response = client.post(_two_factor_url(me), {"action": "link"})
    assert response.status_code == 400
    assert not EnrolmentLink.objects.exists()


def test_device_admins_build_on_the_zbor_base():
    from django.contrib import admin as django_admin

    for model in (AuthenticatorDevice, RecoveryCodeDevice):
        assert isinstance(django_admin.site._registry[model], ZborModelAdmin)


def test_the_command_prints_a_whole_qr_code():
    out = io.StringIO()
    factories.staff_user("cliuser", superuser=False)
    call_command("totp_enroll", "cliuser", stdout=out)
    lines = out.getvalue().splitlines()
    drawing = [line for line in lines if line and not line.startswith("otpauth://") and "Scan" not in line]
    # A real QR code: about as many rows as columns, each row many characters wide.
    assert len(drawing) >= 10 and min(len(line) for line in drawing) >= 21
    assert any(line.startswith("otpauth://totp/") for line in lines)


def test_after_a_password_reset_by_two_admins_the_person_enrols_again(client):
    """A password reset leaves the person with a device and no password: a new link lets them
    set both again (it replaces the old devices), instead of locking them out."""
    from zbor.accounts import staff_changes

    user, old_device, _codes = _enrolled(client)
    user = get_user_model().objects.get(pk=user.pk)
    with pytest.raises(enrolment.EnrolmentError):
        enrolment.create_link(admin(), user)  # a device and a password: a reset is needed first
    change = staff_changes.request_password_reset(user, by=admin("asker"), reason="lost it")
    staff_changes.approve(change, by=admin("approver"))
    token = enrolment.create_link(admin(), get_user_model().objects.get(pk=user.pk))
    _page, device = open_link(client, token)
    finish(client, device, new_password1="another long phrase 8", new_password2="another long phrase 8")
    user = get_user_model().objects.get(pk=user.pk)
    assert user.check_password("another long phrase 8")
    assert [d.key for d in AuthenticatorDevice.objects.filter(user=user)] == [device.key] != [old_device.key]


def test_a_replaced_or_spent_link_keeps_no_authenticator_secret(client):
    user = new_staff()
    open_link(client, enrolment.create_link(admin(), user))
    enrolment.create_link(admin(), user)  # replaces the first, which had a key on the page
    assert EnrolmentLink.objects.filter(user=user, used_at__isnull=False).get().pending_key_secret == ""
    link = EnrolmentLink.objects.get(user=user, used_at__isnull=True)
    link.pending_key_secret = crypto.encrypt_text("ab" * 20)
    link.save()
    for _ in range(enrolment.LINK_FAILURES_ALLOWED):
        enrolment.record_failure(link)
    assert EnrolmentLink.objects.get(pk=link.pk).pending_key_secret == ""
