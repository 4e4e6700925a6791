"""Staff sign-in: two-factor when required, failed attempts limited, and what each role sees."""

import io

import pytest
from django.core.management import call_command
from django_otp.oath import totp

from tests import factories
from zbor.accounts.models import AuditEvent, AuthenticatorDevice, RateCounter

pytestmark = pytest.mark.django_db
LOGIN = "/backoffice/login/"


def sign_in(client, username, password="correct horse battery", token=None):
    data = {"username": username, "password": password, "next": "/backoffice/"}
    if token is not None:
        data["otp_token"] = token
    return client.post(LOGIN, data)


def test_with_two_factor_a_password_alone_does_not_open_the_back_office(client, settings):
    settings.ZBOR_REQUIRE_2FA = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's own back-off after a wrong code, off for the test
    user = factories.role_user("editor", "ed2fa")
    response = sign_in(client, "ed2fa")
    assert response.status_code == 200  # the form again, asking for the code
    assert client.get("/backoffice/").status_code == 302
    call_command("totp_enroll", "ed2fa", stdout=io.StringIO())
    device = AuthenticatorDevice.objects.get(user=user)
    assert sign_in(client, "ed2fa", token="000000").status_code == 200
    assert sign_in(client, "ed2fa", token=f"{totp(device.bin_key):06d}").status_code == 302
    assert client.get("/backoffice/").status_code == 200
    assert AuditEvent.objects.filter(action="account.totp_enroll").exists()


def test_the_code_field_takes_a_recovery_code_typed_on_a_phone(client, settings):
    settings.ZBOR_REQUIRE_2FA = True
    # A digits-only keypad (inputmode="numeric") could not type a recovery code's letters: the
    # one way in for someone whose phone was taken.
    page = client.get(LOGIN).content.decode()
    field = page[page.index('name="otp_token"') - 200 : page.index('name="otp_token"') + 200]
    assert "inputmode" not in field
    assert 'aria-describedby="id_otp_token_helptext"' in field
    assert "or one of your recovery codes" in page


def test_production_settings_require_two_factor():
    import subprocess
    import sys

    code = "import django; django.setup(); from django.conf import settings; print(settings.ZBOR_REQUIRE_2FA)"
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "s" * 64,
        "ZBOR_REQUIRE_2FA": "false",
        "ZBOR_ENCRYPTION_KEYS": "ZmFrZS10ZXN0LWtleS0wMDAwMDAwMDAwMDAwMDAwMDA=",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "True", result.stderr


def test_failed_sign_ins_are_limited_without_storing_the_address(client, settings):
    settings.ZBOR_LOGIN_FAILURES_ALLOWED = 3
    settings.REDIS_URL = ""  # the database's counters, read below (with Redis they are in the cache)
    factories.role_user("editor", "target")
    for _ in range(3):
        sign_in(client, "target", password="wrong guess 123")
    response = sign_in(client, "target")  # the right password, too late
    assert "Too many failed sign-ins" in response.content.decode()
    assert client.get("/backoffice/").status_code == 302
    stored = " ".join(RateCounter.objects.values_list("key", flat=True))
    assert stored and "127.0.0.1" not in stored and "target" not in stored


def test_sessions_expire(settings):
    assert settings.SESSION_COOKIE_AGE <= 8 * 60 * 60 and settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


@pytest.mark.parametrize(
    ("role", "allowed", "forbidden"),
    [
        (
            "editor",
            ["/backoffice/campaigns/campaign/", "/backoffice/campaigns/beneficiary/"],
            [
                "/backoffice/disbursements/payout/",
                "/backoffice/donations/bankstatement/",
                "/backoffice/accounts/auditevent/",
                "/backoffice/auth/user/",
            ],
        ),
        (
            "finance",
            ["/backoffice/donations/donation/", "/backoffice/disbursements/payout/", "/backoffice/ledger/account/"],
            [
                "/backoffice/campaigns/beneficiary/",
                "/backoffice/accounts/auditevent/",
                "/backoffice/auth/user/",
                "/backoffice/campaigns/campaign/add/",
            ],
        ),
        (
            "admin",
            ["/backoffice/auth/user/", "/backoffice/accounts/auditevent/"],
            [
                "/backoffice/donations/donation/",
                "/backoffice/disbursements/payout/",
                "/backoffice/campaigns/beneficiary/",
            ],
        ),
    ],
)
def test_each_role_sees_only_what_it_needs(client, role, allowed, forbidden):
    client.force_login(factories.role_user(role))
    for path in allowed:
        assert client.get(path).status_code == 200, path
    for path in forbidden:
        assert client.get(path).status_code == 403, path


def test_admins_export_the_audit_log(client):
    from zbor.accounts.services import audit

    audit(None, "test.event", label="tester")
    client.force_login(factories.role_user("admin"))
    response = client.get("/backoffice/accounts/auditevent/export/")
    body = b"".join(response.streaming_content).decode()
    assert response.status_code == 200 and "test.event" in body and body.startswith("when,who,action")
    client.force_login(factories.role_user("finance"))
    assert client.get("/backoffice/accounts/auditevent/export/").status_code == 403


def test_guessing_a_colleagues_username_from_elsewhere_does_not_lock_them_out(client, settings):
    from django.test import Client

    settings.ZBOR_LOGIN_FAILURES_ALLOWED = 3
    factories.role_user("editor", "colleague")
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(3):
        sign_in(attacker, "colleague", password="wrong guess 123")
    assert "Too many failed sign-ins" in sign_in(attacker, "colleague").content.decode()
    assert sign_in(Client(REMOTE_ADDR="198.51.100.7"), "colleague").status_code == 302


def _errors(response) -> str:
    import re

    return " ".join(re.findall(r'<p class="errornote">\s*(.*?)\s*</p>', response.content.decode(), re.S))


def test_a_wrong_password_and_a_wrong_code_get_the_same_answer(client, settings):
    """Regression (issue 14): sign-in said "wrong username or password" for a wrong password but
    "invalid token" for the right password with a wrong code — telling an attacker the password."""
    settings.ZBOR_REQUIRE_2FA = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.REDIS_URL = ""  # the database's counters, read below (with Redis they are in the cache)
    user = factories.role_user("finance", "fin2fa")
    device = AuthenticatorDevice.objects.create(user=user, name="phone", confirmed=True)
    right = f"{totp(device.bin_key):06d}"
    wrong = "000000" if right != "000000" else "111111"
    answers = {
        "wrong password, right code": sign_in(client, "fin2fa", password="wrong guess 123", token=right),
        "wrong password, no code": sign_in(client, "fin2fa", password="wrong guess 123"),
        "right password, wrong code": sign_in(client, "fin2fa", token=wrong),
        "right password, no code": sign_in(client, "fin2fa"),
        "unknown user": sign_in(client, "nobody-here", token=right),
    }
    statuses = {name: r.status_code for name, r in answers.items()}
    errors = {name: _errors(r) for name, r in answers.items()}
    assert set(statuses.values()) == {200}, statuses
    assert len(set(errors.values())) == 1 and "authenticator code" in errors["unknown user"], errors
    for response in answers.values():
        page = response.content.decode()
        assert "correct horse battery" not in page and "otp_device" not in page  # nothing says the password was right
    assert client.get("/backoffice/").status_code == 302
    # Each one counts against the throttle: the client's counter holds all five, the per-username
    # counters four (fin2fa) and one (nobody-here).
    assert sorted(RateCounter.objects.values_list("count", flat=True)) == [1, len(answers) - 1, len(answers)]
    assert sign_in(client, "fin2fa", token=right).status_code == 302
    assert client.get("/backoffice/").status_code == 200


def test_the_code_of_any_confirmed_device_signs_in_and_leaves_the_others_usable(client, settings):
    settings.ZBOR_REQUIRE_2FA = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # failures are still counted, only not waited for
    user = factories.role_user("editor", "twophones")
    old = AuthenticatorDevice.objects.create(user=user, name="old phone", confirmed=True)
    new = AuthenticatorDevice.objects.create(user=user, name="new phone", confirmed=True, key="31" * 20)
    pending = AuthenticatorDevice.objects.create(user=user, name="not confirmed", confirmed=False, key="42" * 20)
    assert sign_in(client, "twophones", token=f"{totp(pending.bin_key):06d}").status_code == 200
    old.refresh_from_db()
    assert old.throttling_failure_count == 1
    assert sign_in(client, "twophones", token=f"{totp(new.bin_key):06d}").status_code == 302
    assert client.get("/backoffice/").status_code == 200
    old.refresh_from_db()
    assert old.throttling_failure_count == 0  # a sign-in that worked leaves no device throttled


def test_the_sign_in_throttle_counts_wrong_codes_too(client, settings):
    settings.ZBOR_REQUIRE_2FA = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.ZBOR_LOGIN_FAILURES_ALLOWED = 3
    user = factories.role_user("editor", "coded")
    device = AuthenticatorDevice.objects.create(user=user, name="phone", confirmed=True)
    for _ in range(3):
        sign_in(client, "coded", token="not-a-code")
    response = sign_in(client, "coded", token=f"{totp(device.bin_key):06d}")
    assert "Too many failed sign-ins" in response.content.decode()
    assert client.get("/backoffice/").status_code == 302
