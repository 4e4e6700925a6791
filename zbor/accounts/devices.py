"""The two-factor devices that count: which sign anyone in, and removing every one a person has."""

from __future__ import annotations

from django_otp import devices_for_user

from .models import AuthenticatorDevice, RecoveryCodeDevice

#: The only devices that sign anyone in (zbor/accounts/login.py) or keep a session verified
#: (zbor/accounts/admin_site.py), tried in this order. django-otp's own TOTPDevice and
#: StaticDevice stay installed for the migrations that moved them, but hold their secrets in
#: plain text: one a previous release writes during a rolling upgrade never signs in here, and
#: is moved by the next ``zbor migrate`` (zbor.accounts.legacy_codes).
SIGN_IN_DEVICES = (AuthenticatorDevice, RecoveryCodeDevice)


def remove_every_device(user) -> None:
    """Delete every two-factor device of ``user``, confirmed or not, of every class django-otp
    finds (``devices_for_user``): Zbor's own and any plaintext one a previous release wrote. A
    reset or a new enrolment leaves nothing the old phone or old codes could use."""
    for device in list(devices_for_user(user, confirmed=None)):
        device.delete()
