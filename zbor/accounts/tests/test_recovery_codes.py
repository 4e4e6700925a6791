"""Recovery codes (zbor.accounts.models.RecoveryCodeDevice): stored only as scrypt hashes, each
signs in once, typed in any case with or without its dashes, backed off after wrong codes, and
only a superuser sees — how many are left, never a code — in the admin."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import timedelta
from unittest import mock

import pytest
from django.db.models import F
from django_otp import devices_for_user, match_token

from tests import factories
from zbor.accounts import models as accounts_models
from zbor.accounts.models import AuthenticatorDevice, RecoveryCode, RecoveryCodeDevice, new_recovery_code
from zbor.accounts.tests.enrolment_steps import _enrolled

pytestmark = pytest.mark.django_db

LOGIN = "/backoffice/login/"
PASSWORD = "correct horse battery"


def sign_in(client, username, token):
    data = {"username": username, "password": PASSWORD, "otp_token": token, "next": "/backoffice/"}
    return client.post(LOGIN, data)


@pytest.fixture
def staff(settings):
    """An editor with an authenticator app and two recovery codes; returns (user, device, codes)."""
    settings.ZBOR_REQUIRE_2FA = True
    user = factories.role_user("editor", "recoveryuser")
    AuthenticatorDevice.objects.create(user=user, name="phone", confirmed=True)
    device = RecoveryCodeDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    codes = [new_recovery_code(), new_recovery_code()]
    device.add_codes(codes)
    return user, device, codes


def test_new_codes_have_80_bits_shown_in_groups_of_four():
    codes = {new_recovery_code() for _ in range(50)}
    assert len(codes) == 50
    for code in codes:
        assert re.fullmatch(r"[a-z2-7]{4}(-[a-z2-7]{4}){3}", code), code


def test_only_a_hash_of_each_code_is_stored(staff):
    _user, device, codes = staff
    digests = list(RecoveryCode.objects.filter(device=device).values_list("digest", flat=True))
    assert len(digests) == 2 and all(re.fullmatch(r"[0-9a-f]{64}", digest) for digest in digests)
    stored = repr(list(RecoveryCodeDevice.objects.values())) + repr(list(RecoveryCode.objects.values()))
    for code in codes:
        for form in (code, code.replace("-", ""), code.upper(), code.replace("-", "").upper()):
            assert form not in stored
    # Salted per device: the same code hashes differently for someone else.
    other = RecoveryCodeDevice.objects.create(user=factories.role_user("editor", "other"), name="recovery codes")
    assert other.digest(codes[0]) not in digests and device.digest(codes[0]) in digests


def test_a_recovery_code_signs_in_once_then_is_refused(client, staff, settings):
    settings.OTP_STATIC_THROTTLE_FACTOR = 0  # the refused replay would otherwise start a back-off
    user, device, codes = staff
    assert sign_in(client, user.username, codes[0]).status_code == 302
    assert client.get("/backoffice/").status_code == 200
    client.logout()
    assert RecoveryCode.objects.filter(device=device).count() == 1
    assert sign_in(client, user.username, codes[0]).status_code == 200  # used: gone
    assert client.get("/backoffice/").status_code == 302
    assert sign_in(client, user.username, codes[1]).status_code == 302  # the other still works
    assert not RecoveryCode.objects.filter(device=device).exists()
    device.refresh_from_db()
    assert device.last_used_at is not None


def test_a_code_is_accepted_in_any_case_with_spaces_or_without_dashes(staff):
    _user, device, codes = staff
    assert device.verify_token(codes[0].upper().replace("-", " "))
    assert device.verify_token("  " + codes[1].replace("-", "") + " ")
    assert not device.verify_token(codes[1])  # both used now


def test_the_eight_character_codes_django_otp_made_still_work(staff):
    _user, device, _codes = staff
    device.add_codes(["ab2cd3ef"])
    assert device.verify_token("AB2C-D3EF")
    assert not device.verify_token("ab2cd3ef")


def test_django_otp_finds_the_device_and_matches_a_code(staff):
    user, device, codes = staff
    assert device in list(devices_for_user(user))
    assert match_token(user, codes[0]) == device
    assert match_token(user, codes[0]) is None


def test_a_token_that_cannot_be_a_code_is_refused_without_hashing(staff, settings):
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
    _user, device, _codes = staff
    with mock.patch.object(accounts_models, "hash_recovery_code", wraps=accounts_models.hash_recovery_code) as hashed:
        for token in ("123456", "", "abcd-efgh-ijkl-mno", "abcd-efgh-ijkl-mn01", "abcd-efgh-ijkl-mnop-qrst"):
            assert not device.verify_token(token)
        assert hashed.call_count == 0
        assert not device.verify_token("abcd-efgh-ijkl-mnop")  # well formed, wrong: hashed once
        assert hashed.call_count == 1


def test_wrong_codes_back_off_until_the_delay_has_passed(client, staff, settings):
    settings.OTP_STATIC_THROTTLE_FACTOR = 10
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    user, device, codes = staff
    assert sign_in(client, user.username, "abcd-efgh-ijkl-mnop").status_code == 200
    assert sign_in(client, user.username, "abcd-efgh-ijkl-mnop").status_code == 200  # not even checked
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # the second try came inside the back-off
    assert sign_in(client, user.username, codes[0]).status_code == 200  # even a right code waits
    assert RecoveryCode.objects.filter(device=device).count() == 2  # and is not spent
    RecoveryCodeDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=F("throttling_failure_timestamp") - timedelta(seconds=11)
    )
    assert sign_in(client, user.username, codes[0]).status_code == 302
    device.refresh_from_db()
    assert device.throttling_failure_count == 0 and device.throttling_failure_timestamp is None


def test_a_code_used_by_a_racing_sign_in_is_refused(staff, settings):
    """Two sign-ins with one code at once: the hash matches for both, only one deletes it."""
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
    _user, device, codes = staff
    real = hmac.compare_digest

    def spent_meanwhile(typed, stored):
        RecoveryCode.objects.filter(device=device).delete()  # the other sign-in got there first
        return real(typed, stored)

    with mock.patch.object(accounts_models.hmac, "compare_digest", spent_meanwhile):
        assert not device.verify_token(codes[0])
    device.refresh_from_db()
    assert device.throttling_failure_count == 1 and device.last_used_at is None


def test_enrolment_shows_the_new_codes_once_and_they_sign_in(client, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = settings.OTP_STATIC_THROTTLE_FACTOR = 0
    user, _device, codes = _enrolled(client)
    assert len(codes) == 10 and all(re.fullmatch(r"([a-z2-7]{4}-){3}[a-z2-7]{4}", code) for code in codes)
    settings.ZBOR_REQUIRE_2FA = True
    response = client.post(
        LOGIN,
        {"username": user.username, "password": "a long new passphrase 7", "otp_token": codes[3].upper()},
    )
    assert response.status_code == 302
    assert RecoveryCode.objects.filter(device__user=user).count() == 9


def test_only_a_superuser_sees_the_codes_left_and_never_a_code(client, staff, settings):
    settings.ZBOR_REQUIRE_2FA = False  # force_login: no code typed
    _user, device, codes = staff
    base = "/backoffice/accounts/recoverycodedevice/"
    client.force_login(factories.role_user("admin", "plainadmin"))
    assert client.get(base).status_code == 403
    assert client.get(f"{base}{device.pk}/change/").status_code == 403
    client.force_login(factories.staff_user("root"))
    listing = client.get(base)
    assert listing.status_code == 200
    page = client.get(f"{base}{device.pk}/change/")
    html = listing.content.decode() + page.content.decode()
    assert page.status_code == 200
    for secret in [*codes, device.salt, *device.codes.values_list("digest", flat=True)]:
        assert secret not in html
    assert re.search(r"Codes left.*?<td class=\"field-codes_left\">2</td>", listing.content.decode(), re.S)
    assert client.get(f"{base}add/").status_code == 403  # codes come from enrolment only
    assert client.get("/backoffice/otp_static/staticdevice/").status_code == 404  # plaintext screens gone
    response = client.post(
        f"{base}{device.pk}/change/",
        {"name": "recovery codes", "confirmed": "on", "throttling_failure_count": "0"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert device.codes.count() == 2


def test_the_two_factor_page_counts_the_codes_left(client, staff, settings):
    settings.ZBOR_REQUIRE_2FA = False
    user, device, codes = staff
    device.verify_token(codes[0])
    client.force_login(factories.staff_user("root"))
    page = client.get(f"/backoffice/auth/user/{user.pk}/two-factor/")
    assert page.status_code == 200 and page.context["recovery_left"] == 1
    assert codes[1] not in page.content.decode()


def test_a_code_typed_costs_one_hash_whether_or_not_the_password_was_right(client, staff, settings):
    """The time a sign-in takes must not tell a right password: a token shaped like a recovery
    code is hashed once for a wrong password, a person without codes, or codes backed off."""
    settings.OTP_STATIC_THROTTLE_FACTOR = 10
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    user, _device, _codes = staff
    nobody = factories.role_user("editor", "nocodes")
    hashed = mock.patch.object(hashlib, "scrypt", wraps=hashlib.scrypt)
    attempts = [
        (user.username, "wrong password"),  # wrong password
        (user.username, PASSWORD),  # right password, wrong code: the device hashes it
        (user.username, PASSWORD),  # right password, codes backed off now: not checked
        (nobody.username, PASSWORD),  # right password, no recovery codes
        ("nosuchperson", PASSWORD),  # no such account
    ]
    for username, password in attempts:
        with hashed as calls:
            data = {"username": username, "password": password, "otp_token": "abcd-efgh-ijkl-mnop"}
            assert client.post(LOGIN, data).status_code == 200
        assert calls.call_count == 1, (username, password)
    with hashed as calls:
        client.post(LOGIN, {"username": user.username, "password": PASSWORD, "otp_token": "123456"})
    assert calls.call_count == 0  # an authenticator code is never hashed
