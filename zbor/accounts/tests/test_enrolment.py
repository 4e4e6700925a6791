"""Staff set up two-factor themselves with a one-time link; a lost phone needs two admins."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests import factories
from zbor.accounts import enrolment
from zbor.accounts.models import AuditEvent, AuthenticatorDevice, EnrolmentLink, RecoveryCode, RecoveryCodeDevice
from zbor.accounts.tests.enrolment_steps import (
    PASSWORD,
    _enrolled,
    _sign_in,
    admin,
    code_for,
    finish,
    new_staff,
    open_link,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_otp_backoff")]


def test_a_new_staff_member_sets_a_password_and_device_and_gets_recovery_codes(client, settings):
    settings.ZBOR_REQUIRE_2FA = True
    user = new_staff()
    token = enrolment.create_link(admin(), user)
    assert not EnrolmentLink.objects.filter(token_hash=token).exists()  # only a hash is stored
    assert EnrolmentLink.objects.get(token_hash=enrolment.token_hash(token)).user == user
    page, device = open_link(client, token)
    assert not device.confirmed and not AuthenticatorDevice.objects.filter(user=user).exists()
    assert "new_password1" in page.content.decode() and 'name="password"' not in page.content.decode()
    response = finish(client, device, new_password1="a long new passphrase 7", new_password2="a long new passphrase 7")
    assert response.status_code == 200
    codes = response.context["codes"]
    assert len(codes) == enrolment.RECOVERY_CODES and all(code in response.content.decode() for code in codes)
    assert response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    device = AuthenticatorDevice.objects.get(user=user)
    user.refresh_from_db()
    assert device.confirmed and user.check_password("a long new passphrase 7")
    assert EnrolmentLink.objects.get().pending_key_secret == ""
    # Signed in and verified: the back office opens even with two-factor required.
    assert client.get("/backoffice/").status_code == 200
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"account.enrolment_link_create", "account.enrolment_complete"} <= actions
    done = AuditEvent.objects.get(action="account.enrolment_complete")
    assert "password" in done.fields and codes[0] not in str(done.fields)


def test_a_person_with_a_password_must_confirm_it(client):
    user = factories.staff_user("haspw", superuser=False)
    _page, device = open_link(client, enrolment.create_link(admin(), user))
    response = finish(client, device, password="not my password")
    assert response.status_code == 200 and "This is not your password" in response.content.decode()
    assert not AuthenticatorDevice.objects.filter(user=user).exists()
    assert finish(client, device, password=PASSWORD).status_code == 200
    assert AuthenticatorDevice.objects.get(user=user).confirmed


def test_the_link_works_once(client):
    user = new_staff()
    token = enrolment.create_link(admin(), user)
    _page, device = open_link(client, token)
    finish(client, device, new_password1="a long new passphrase 7", new_password2="a long new passphrase 7")
    other = client.__class__()
    assert other.get(f"/backoffice/enrol/{token}/").status_code == 410
    assert EnrolmentLink.objects.get().used_at is not None


def test_an_expired_link_is_refused(client):
    user = new_staff()
    token = enrolment.create_link(admin(), user)
    EnrolmentLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(f"/backoffice/enrol/{token}/").status_code == 410


def test_a_link_that_expires_while_open_is_refused(client):
    user = new_staff()
    _page, device = open_link(client, enrolment.create_link(admin(), user))
    EnrolmentLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = finish(client, device, new_password1="a long new passphrase 7", new_password2="a long new passphrase 7")
    assert response.status_code == 410
    assert not AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists()


def test_an_abandoned_link_leaves_no_device_to_sign_in_with(client, settings):
    # The key shown on the page is not a device until a code from it is confirmed: someone who
    # saw the page (and knows the password) cannot sign in with it by naming an unconfirmed
    # device, which django-otp's sign-in form would otherwise accept.
    settings.ZBOR_REQUIRE_2FA = True
    user = factories.staff_user("abandon", superuser=False)
    _page, device = open_link(client, enrolment.create_link(admin(), user))
    assert not AuthenticatorDevice.objects.filter(user=user).exists()
    client.get("/backoffice/logout/")
    data = {
        "username": "abandon",
        "password": PASSWORD,
        "otp_token": code_for(device),
        "otp_device": "accounts.authenticatordevice/1",
    }
    assert client.post("/backoffice/login/", data).status_code == 200
    assert client.get("/backoffice/").status_code == 302


def test_unknown_links_get_the_same_answer(client):
    assert client.get("/backoffice/enrol/nonsense/").status_code == 410
    assert client.get("/backoffice/enrol/").status_code == 410
    assert client.post("/backoffice/enrol/", {"otp_token": "123456"}).status_code == 410


def test_wrong_codes_are_refused_counted_and_spend_the_link(client):
    user = new_staff()
    _page, device = open_link(client, enrolment.create_link(admin(), user))
    data = {"new_password1": "a long new passphrase 7", "new_password2": "a long new passphrase 7"}
    right = int(code_for(device))
    wrong = f"{(right + 1) % 1_000_000:06d}"
    for _attempt in range(enrolment.LINK_FAILURES_ALLOWED - 1):
        response = client.post("/backoffice/enrol/", {"otp_token": wrong, **data})
        assert response.status_code == 200 and "This code is not right" in response.content.decode()
    assert (
        client.post("/backoffice/enrol/", {"otp_token": "abc", **data}).status_code == 200
    )  # not a code: not counted
    assert client.post("/backoffice/enrol/", {"otp_token": wrong, **data}).status_code == 410
    assert finish(client, device, **data).status_code == 410  # spent, even with the right code
    assert not AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists()
    assert AuditEvent.objects.filter(action="account.enrolment_failed").count() == enrolment.LINK_FAILURES_ALLOWED


def test_mismatched_or_weak_new_passwords_write_nothing(client):
    user = new_staff()
    _page, device = open_link(client, enrolment.create_link(admin(), user))
    assert (
        "differ"
        in finish(client, device, new_password1="a long new passphrase 7", new_password2="other").content.decode()
    )
    assert finish(client, device, new_password1="123", new_password2="123").status_code == 200
    user.refresh_from_db()
    assert not user.has_usable_password() and not RecoveryCodeDevice.objects.filter(user=user).exists()


def test_the_qr_code_is_inline_svg_with_no_external_address(client):
    page, device = open_link(client, enrolment.create_link(admin(), new_staff()))
    html = page.content.decode()
    svg = re.search(r'<svg xmlns="http://www.w3.org/2000/svg".*?</svg>', html, re.S).group(0)
    assert 'xmlns="http://www.w3.org/2000/svg"' in svg
    assert "href" not in svg and "url(" not in svg
    assert re.findall(r"https?://[^\"']+", svg) == ["http://www.w3.org/2000/svg"]
    assert "<img" not in html.split('<div id="content"')[-1]  # no image fetched from anywhere
    import base64

    secret = base64.b32encode(device.bin_key).decode()
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in html
    assert "no-referrer" in client.get("/backoffice/enrol/nonsense/")["Referrer-Policy"]


def test_the_qr_code_is_one_svg_path_drawn_here():
    svg = enrolment.qr_svg("otpauth://totp/zbor:x?secret=ABCDEFGH")
    assert svg.startswith("<svg") and svg.count("<path") == 1


def test_recovery_codes_work_once(client):
    user = new_staff()
    _page, device = open_link(client, enrolment.create_link(admin(), user))
    codes = finish(
        client, device, new_password1="a long new passphrase 7", new_password2="a long new passphrase 7"
    ).context["codes"]
    recovery = RecoveryCodeDevice.objects.get(user=user)
    assert RecoveryCode.objects.filter(device=recovery).count() == len(codes) == 10
    assert recovery.verify_token(codes[0])
    recovery = RecoveryCodeDevice.objects.get(pk=recovery.pk)
    assert not recovery.verify_token(codes[0])
    assert recovery.verify_token(codes[1])


def test_after_enrolment_the_app_and_the_recovery_codes_sign_in_with_the_device_chosen(client, settings):
    settings.ZBOR_REQUIRE_2FA = True
    user, device, codes = _enrolled(client)
    recovery = RecoveryCodeDevice.objects.get(user=user)
    assert _sign_in(client, user, codes[0], recovery).status_code == 302
    assert client.get("/backoffice/").status_code == 200
    client.logout()
    assert _sign_in(client, user, codes[0], recovery).status_code == 200  # the same code again: refused
    AuthenticatorDevice.objects.filter(pk=device.pk).update(last_t=-1)
    assert _sign_in(client, user, code_for(device), device).status_code == 302


def test_recovery_codes_open_the_sign_in_without_choosing_a_device(client, settings):
    # Sign-in tries every confirmed device of Zbor's own (zbor.accounts.devices.SIGN_IN_DEVICES);
    # with an app and recovery codes there are two.
    settings.ZBOR_REQUIRE_2FA = True
    user, device, codes = _enrolled(client)
    assert _sign_in(client, user, codes[0]).status_code == 302
    client.logout()
    AuthenticatorDevice.objects.filter(pk=device.pk).update(last_t=-1)
    assert _sign_in(client, user, code_for(device)).status_code == 302


def test_a_link_is_refused_for_someone_who_has_a_device():
    user = factories.staff_user("enrolled", superuser=False)
    call_command("totp_enroll", "enrolled", stdout=io.StringIO())
    with pytest.raises(enrolment.EnrolmentError):
        enrolment.create_link(admin(), user)


def test_a_new_link_replaces_the_open_one(client):
    user, boss = new_staff(), admin()
    first = enrolment.create_link(boss, user)
    enrolment.create_link(boss, user)
    assert client.get(f"/backoffice/enrol/{first}/").status_code == 410
