"""The authenticator app's device (zbor.accounts.models.AuthenticatorDevice): its key is stored
encrypted, and it signs in exactly as django-otp's TOTPDevice did — one code per step, a step
of clock skew either side, the phone's drift learnt, a back-off after wrong codes."""

from __future__ import annotations

import io
import types
from datetime import timedelta
from unittest import mock

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db.models import F
from django_otp import devices_for_user, match_token
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import factories
from zbor import crypto
from zbor.accounts import enrolment
from zbor.accounts import models as accounts_models
from zbor.accounts.keys import rotate_encryption_keys
from zbor.accounts.models import AuthenticatorDevice, EnrolmentLink, RecoveryCodeDevice
from zbor.accounts.tests.enrolment_steps import admin, new_staff

pytestmark = pytest.mark.django_db

KEY = "3132333435363738393031323334353637383930"  # RFC 6238's test key, as hex
NOW = 1_800_000_000.0  # a fixed clock, at the start of a 30-second step
LOGIN = "/backoffice/login/"


def code_at(key_hex: str, when: float, digits: int = 6) -> str:
    """The code an authenticator app shows at ``when`` (Unix time)."""
    totp = TOTP(bytes.fromhex(key_hex), digits=digits)
    totp.time = when
    return f"{totp.token():0{digits}d}"


@pytest.fixture
def clock():
    """The device's clock, fixed at NOW; move it with ``clock.now = …``."""
    fixed = types.SimpleNamespace(now=NOW)
    with mock.patch.object(accounts_models, "time", types.SimpleNamespace(time=lambda: fixed.now)):
        yield fixed


def sign_in(client, username, token):
    data = {"username": username, "password": "correct horse battery", "otp_token": token, "next": "/backoffice/"}
    return client.post(LOGIN, data)


@pytest.fixture
def staff(settings):
    settings.ZBOR_REQUIRE_2FA = True
    user = factories.role_user("editor", "phoneuser")
    device = AuthenticatorDevice.objects.create(user=user, name="phone", confirmed=True, key=KEY)
    return user, device


def test_the_key_is_stored_only_as_ciphertext(staff):
    _user, device = staff
    stored = AuthenticatorDevice.objects.filter(pk=device.pk).values_list("key_secret", flat=True).get()
    assert KEY not in stored and KEY.upper() not in stored
    assert crypto.decrypt_text(stored) == KEY
    assert AuthenticatorDevice.objects.get(pk=device.pk).key == KEY


def test_a_valid_code_signs_in_and_the_same_code_is_refused_after(client, staff, clock, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # the replay is counted as a failure; no back-off to wait out here
    user, device = staff
    code = code_at(KEY, NOW)
    assert sign_in(client, user.username, code).status_code == 302
    assert client.get("/backoffice/").status_code == 200
    client.logout()
    assert sign_in(client, user.username, code).status_code == 200  # replayed: the same step again
    assert client.get("/backoffice/").status_code == 302
    device.refresh_from_db()
    assert device.last_t == int(NOW // 30) and device.last_used_at is not None
    clock.now = NOW + 30
    assert sign_in(client, user.username, code_at(KEY, NOW + 30)).status_code == 302  # the next step's code


def test_django_otp_finds_the_device_and_matches_its_codes(staff, clock):
    user, device = staff
    assert list(devices_for_user(user)) == [device]
    assert match_token(user, code_at(KEY, NOW)) == device
    assert match_token(user, code_at(KEY, NOW)) is None  # used once


def test_wrong_codes_throttle_the_device_until_the_back_off_has_passed(client, staff, clock, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 10
    user, device = staff
    right = code_at(KEY, NOW)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    assert sign_in(client, user.username, wrong).status_code == 200
    assert sign_in(client, user.username, wrong).status_code == 200  # refused without being checked
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # the second try came inside the back-off
    assert sign_in(client, user.username, right).status_code == 200  # even the right code waits
    AuthenticatorDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=F("throttling_failure_timestamp") - timedelta(seconds=11)
    )
    assert sign_in(client, user.username, right).status_code == 302
    device.refresh_from_db()
    assert device.throttling_failure_count == 0 and device.throttling_failure_timestamp is None


def test_a_phone_one_step_off_is_accepted_and_its_drift_learnt(staff, clock):
    _user, device = staff
    assert not device.verify_token(code_at(KEY, NOW + 60))  # two steps ahead: outside the tolerance
    device.throttle_reset()
    assert device.verify_token(code_at(KEY, NOW + 30))  # one step ahead: inside it
    device.refresh_from_db()
    assert device.drift == 1
    clock.now = NOW + 60
    # The drift is remembered: the window now centres a step ahead of the server's clock, so the
    # phone running further ahead (its code for NOW + 120) is still accepted…
    assert device.verify_token(code_at(KEY, NOW + 120))
    device.refresh_from_db()
    assert device.drift == 2
    # …and a code of a step before the last one used is not, though inside the window.
    assert not device.verify_token(code_at(KEY, NOW + 90))


def test_eight_digit_devices_and_the_otpauth_address_match_django_otp(staff, settings):
    user, _device = staff
    settings.OTP_TOTP_ISSUER = "Zbor: Foundation"
    ours = AuthenticatorDevice(user=user, key=KEY, digits=8)
    theirs = TOTPDevice(user=user, key=KEY, digits=8)
    assert ours.config_url == theirs.config_url
    assert ours.config_url.startswith(
        "otpauth://totp/Zbor%20Foundation%3Aphoneuser?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    )


def test_a_key_that_is_not_hex_is_refused_without_repeating_it():
    with pytest.raises(ValueError) as refused:
        AuthenticatorDevice(key="not a key at all")
    assert "not a key" not in str(refused.value)
    with pytest.raises(ValueError):
        AuthenticatorDevice(key="ab" * 41)


def test_key_rotation_re_encrypts_devices_and_pending_links_and_sign_in_still_works(client, staff, clock, settings):
    user, device = staff
    link_user = new_staff("halfway")
    enrolment.create_link(admin(), link_user)
    link = EnrolmentLink.objects.get(user=link_user)
    pending = enrolment.pending_device(link)
    pending_key = pending.key
    before = {
        "device": AuthenticatorDevice.objects.values_list("key_secret", flat=True).get(pk=device.pk),
        "link": EnrolmentLink.objects.values_list("pending_key_secret", flat=True).get(pk=link.pk),
    }
    old_key = settings.ZBOR_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.ZBOR_ENCRYPTION_KEYS = [new_key, old_key]
    rotated = rotate_encryption_keys(label="test")
    assert rotated.rows >= 2
    settings.ZBOR_ENCRYPTION_KEYS = [new_key]  # the old key removed: only what was rotated opens
    after = {
        "device": AuthenticatorDevice.objects.values_list("key_secret", flat=True).get(pk=device.pk),
        "link": EnrolmentLink.objects.values_list("pending_key_secret", flat=True).get(pk=link.pk),
    }
    assert after["device"] != before["device"] and after["link"] != before["link"]
    assert AuthenticatorDevice.objects.get(pk=device.pk).key == KEY
    assert enrolment.pending_device(EnrolmentLink.objects.get(pk=link.pk)).key == pending_key
    assert sign_in(client, user.username, code_at(KEY, NOW)).status_code == 302


def test_the_command_names_both_columns_in_the_audit_row(staff):
    from zbor.accounts.models import AuditEvent

    call_command("rotate_encryption_keys", stdout=io.StringIO())
    fields = AuditEvent.objects.get(action="crypto.keys.rotate").fields
    assert "accounts.authenticatordevice.key_secret" in fields
    assert "accounts.enrolmentlink.pending_key_secret" in fields


def test_a_key_no_configured_encryption_key_opens_refuses_codes_and_says_so(client, staff, clock, settings, caplog):
    """An encryption key removed before rotation: the app's codes are refused (logged, no 500)
    and the recovery codes still sign in."""
    settings.OTP_STATIC_THROTTLE_FACTOR = 0  # the refused code counted against every device; no wait here
    user, _device = staff
    recovery = RecoveryCodeDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    recovery.add_codes(["abcd-efgh-ijkl-mnop"])
    settings.ZBOR_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    assert sign_in(client, user.username, code_at(KEY, NOW)).status_code == 200
    assert "none of ZBOR_ENCRYPTION_KEYS opens its key" in caplog.text
    assert sign_in(client, user.username, "abcd-efgh-ijkl-mnop").status_code == 302


def test_a_superuser_lifts_a_back_off_in_the_admin_and_never_sees_the_key(client, staff, settings):
    settings.ZBOR_REQUIRE_2FA = False  # force_login: no code typed
    _user, device = staff
    AuthenticatorDevice.objects.filter(pk=device.pk).update(throttling_failure_count=9)
    client.force_login(factories.staff_user("root"))
    base = "/backoffice/accounts/authenticatordevice/"
    assert client.get(base).status_code == 200
    page = client.get(f"{base}{device.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200 and KEY not in html and device.key_secret not in html
    assert 'name="key' not in html
    assert client.get(f"{base}add/").status_code == 403  # devices come from enrolment only
    response = client.post(
        f"{base}{device.pk}/change/",
        {"name": "phone", "confirmed": "on", "throttling_failure_count": "0", "throttling_failure_timestamp_0": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    device.refresh_from_db()
    assert device.throttling_failure_count == 0 and device.key == KEY
