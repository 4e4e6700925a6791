"""Plaintext django-otp devices a previous release writes during a rolling upgrade (otp_totp and
otp_static stay installed): they never sign anyone in, a reset or enrolment removes them, the next
`zbor migrate` moves them (encrypted, hashed), and a move never loses a row written meanwhile."""

from __future__ import annotations

import io
import secrets
from datetime import timedelta
from unittest import mock

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import factories
from zbor import crypto
from zbor.accounts import enrolment, legacy_codes, legacy_keys
from zbor.accounts.models import AuthenticatorDevice, EnrolmentLink, RecoveryCode, RecoveryCodeDevice
from zbor.accounts.tests.enrolment_steps import PASSWORD, admin, finish, open_link

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_otp_backoff")]
OLD_CODE = "ab2cd3ef"  # an 8-character code as django-otp made them


def _sign_in(client, username, token):
    data = {"username": username, "password": PASSWORD, "otp_token": token, "next": "/backoffice/"}
    return client.post("/backoffice/login/", data)


def _plaintext_devices(user, key):
    """What an old server's enrolment or `totp_enroll` leaves: django-otp's own devices."""
    TOTPDevice.objects.create(user=user, name="old server", key=key, confirmed=True)
    static = StaticDevice.objects.create(user=user, name="old codes", confirmed=True)
    StaticToken.objects.create(device=static, token=OLD_CODE)


def _move_leftovers():
    legacy_codes.move_leftovers_after_migrate(sender=apps.get_app_config("accounts"))


def test_a_plaintext_device_never_signs_in_nor_keeps_a_session_verified(client, settings):
    settings.ZBOR_REQUIRE_2FA = True
    user, key = factories.role_user("editor", "oldserver"), secrets.token_hex(20)
    user.set_password(PASSWORD)
    user.save()
    _plaintext_devices(user, key)
    assert _sign_in(client, "oldserver", f"{totp(bytes.fromhex(key)):06d}").status_code == 200
    assert _sign_in(client, "oldserver", OLD_CODE).status_code == 200
    assert "_auth_user_id" not in client.session
    # A session an old server verified with its plaintext device: not signed in here.
    client.force_login(user)
    session = client.session
    session["otp_device_id"] = TOTPDevice.objects.get(user=user).persistent_id
    session.save()
    assert client.get("/backoffice/").status_code == 302
    ours = AuthenticatorDevice.objects.create(user=user, name="authenticator app", confirmed=True)
    session["otp_device_id"] = ours.persistent_id
    session.save()
    assert client.get("/backoffice/").status_code == 200


def test_a_device_an_old_server_wrote_after_the_upgrade_is_moved_by_the_next_migrate(client, settings):
    settings.ZBOR_REQUIRE_2FA = True
    user, key = factories.role_user("editor", "window"), secrets.token_hex(20)
    user.set_password(PASSWORD)
    user.save()
    _plaintext_devices(user, key)
    pending, shown = secrets.token_hex(20), secrets.token_hex(20)
    soon = timezone.now() + timedelta(days=1)
    half = EnrolmentLink.objects.create(user=user, token_hash="4" * 64, expires_at=soon, pending_key=pending)
    # Opened on both releases: the key the new release showed stays, the plaintext one goes.
    both = EnrolmentLink.objects.create(
        user=user,
        token_hash="5" * 64,
        expires_at=soon,
        pending_key=pending,
        pending_key_secret=crypto.encrypt_text(shown),
    )
    with mock.patch.object(MigrationRecorder, "applied_migrations", return_value={}):
        _move_leftovers()  # migrated back to before 0008: nothing is moved
    assert TOTPDevice.objects.exists() and not AuthenticatorDevice.objects.exists()
    _move_leftovers()
    assert not TOTPDevice.objects.exists() and not StaticDevice.objects.exists()
    moved = AuthenticatorDevice.objects.get(user=user)
    assert (moved.key, moved.name, moved.confirmed) == (key, "old server", True)
    half.refresh_from_db()
    both.refresh_from_db()
    assert half.pending_key == "" and crypto.decrypt_text(half.pending_key_secret) == pending
    assert both.pending_key == "" and crypto.decrypt_text(both.pending_key_secret) == shown
    assert _sign_in(client, "window", f"{totp(bytes.fromhex(key)):06d}").status_code == 302
    client.logout()
    assert _sign_in(client, "window", OLD_CODE).status_code == 302


def test_a_reset_or_an_enrolment_removes_plaintext_devices_too(client):
    user = factories.staff_user("resetme", superuser=False)
    _plaintext_devices(user, secrets.token_hex(20))
    AuthenticatorDevice.objects.create(user=user, name="authenticator app", confirmed=True)
    reset = enrolment.request_reset(admin("admin_a"), user)
    token = enrolment.approve_reset(admin("admin_b"), reset.pk)
    assert not TOTPDevice.objects.exists() and not StaticDevice.objects.exists() and not StaticToken.objects.exists()
    assert not AuthenticatorDevice.objects.exists()
    # An old server's enrolment meanwhile: the new one completed here replaces it.
    _plaintext_devices(user, secrets.token_hex(20))
    _page, device = open_link(client, token)
    assert finish(client, device, password=PASSWORD).status_code == 200
    assert not TOTPDevice.objects.exists() and not StaticDevice.objects.exists()
    assert AuthenticatorDevice.objects.filter(user=user, confirmed=True).count() == 1
    assert RecoveryCodeDevice.objects.filter(user=user).count() == 1


def test_totp_enroll_replaces_a_plaintext_authenticator_and_keeps_recovery_codes():
    user = factories.staff_user("cli", superuser=False)
    _plaintext_devices(user, secrets.token_hex(20))
    call_command("totp_enroll", "cli", stdout=io.StringIO())
    assert not TOTPDevice.objects.exists()
    assert AuthenticatorDevice.objects.filter(user=user).count() == 1
    assert StaticToken.objects.filter(device__user=user).exists()  # hashed by the next migrate


def test_a_device_written_while_keys_are_moved_is_not_lost():
    user, late_key = factories.staff_user("race"), secrets.token_hex(20)
    TOTPDevice.objects.create(user=user, name="first", key=secrets.token_hex(20))

    def convert_while_another_server_writes(key):
        if not TOTPDevice.objects.filter(name="late").exists():
            TOTPDevice.objects.create(user=user, name="late", key=late_key)
        return crypto.encrypt_text(key)

    moved = legacy_keys.move_devices(
        TOTPDevice, AuthenticatorDevice, "default", convert_while_another_server_writes, "key", "key_secret"
    )
    assert len(moved) == 1
    assert list(TOTPDevice.objects.values_list("name", flat=True)) == ["late"]
    _move_leftovers()
    assert sorted(AuthenticatorDevice.objects.values_list("name", flat=True)) == ["first", "late"]
    assert AuthenticatorDevice.objects.get(name="late").key == late_key


def test_codes_written_while_codes_are_hashed_are_not_lost():
    from zbor.accounts import models

    user = factories.staff_user("racecodes")
    StaticToken.objects.create(device=StaticDevice.objects.create(user=user, name="first"), token="aaaa2222")
    real_hash = models.hash_recovery_code

    def hash_while_another_server_writes(code, salt, work):
        if not StaticDevice.objects.filter(name="late").exists():
            late = StaticDevice.objects.create(user=user, name="late")
            StaticToken.objects.create(device=late, token=OLD_CODE)
            # A code added to the device being moved, after its codes were read.
            StaticToken.objects.create(device=StaticDevice.objects.get(name="first"), token="bbbb3333")
        return real_hash(code, salt, work)

    with mock.patch.object(models, "hash_recovery_code", hash_while_another_server_writes):
        moved = legacy_codes.hash_plaintext_codes(
            StaticDevice, StaticToken, RecoveryCodeDevice, RecoveryCode, "default"
        )
    assert moved == 1
    assert sorted(StaticToken.objects.values_list("token", flat=True)) == [OLD_CODE, "bbbb3333"]
    _move_leftovers()
    assert not StaticToken.objects.exists()
    for code in ("aaaa2222", "bbbb3333", OLD_CODE):
        assert any(device.verify_token(code) for device in RecoveryCodeDevice.objects.filter(user=user)), code


def test_a_reset_an_old_server_approved_removes_the_lost_phone_at_the_next_migrate():
    from zbor.accounts.models import AuditEvent, DeviceReset

    lost, kept = factories.staff_user("lostinwindow", superuser=False), factories.staff_user("untouched")
    for user in (lost, kept):
        AuthenticatorDevice.objects.create(user=user, name="authenticator app", confirmed=True)
        RecoveryCodeDevice.objects.create(user=user, name="recovery codes").add_codes(["aaaa2222"])
    # Approved by an old server: it deleted only django-otp's devices.
    a, b = admin("admin_a"), admin("admin_b")
    now = timezone.now()
    DeviceReset.objects.create(user=lost, requested_by=a, approved_by=b, approved_at=now)
    # Enrolled again afterwards on an old server: the new phone stays.
    new_key = secrets.token_hex(20)
    TOTPDevice.objects.create(user=lost, name="new phone", key=new_key)
    TOTPDevice.objects.filter(name="new phone").update(created_at=now + timedelta(minutes=5))
    _move_leftovers()
    assert list(AuthenticatorDevice.objects.filter(user=lost).values_list("name", flat=True)) == ["new phone"]
    assert AuthenticatorDevice.objects.get(user=lost).key == new_key
    assert not RecoveryCodeDevice.objects.filter(user=lost).exists()
    assert (
        AuthenticatorDevice.objects.filter(user=kept).exists()
        and RecoveryCodeDevice.objects.filter(user=kept).exists()
    )
    assert AuditEvent.objects.filter(action="account.device_reset_finish").count() == 1
    _move_leftovers()  # the next migrate: nothing more
    assert AuthenticatorDevice.objects.filter(user=lost).count() == 1
    assert AuditEvent.objects.filter(action="account.device_reset_finish").count() == 1
