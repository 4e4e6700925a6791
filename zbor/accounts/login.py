"""Staff sign-in: two-factor (TOTP) when required, and a limit on failed attempts.

Failed attempts are counted by the one rate limiter (zbor/ratelimit.py), by salted,
daily-rotating hashes (the raw IP address is never stored). Sign-in is refused for the rest of a
15-minute window once ZBOR_LOGIN_FAILURES_ALLOWED failures for one username *from one client*
were counted in it — so guessing a colleague's username from elsewhere cannot lock them out —
and once four times as many failures from one client for any usernames were. Behind a reverse
proxy, ZBOR_CLIENT_IP_HEADER names the header carrying the real client address, read only from
ZBOR_TRUSTED_PROXIES (``zbor.ratelimit.client_address``, the same client as the donate limits).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django_otp.models import ThrottlingMixin

from zbor import ratelimit

from .devices import SIGN_IN_DEVICES
from .models import (
    RECOVERY_CODE_WORK,
    RecoveryCodeDevice,
    hash_recovery_code,
    looks_like_recovery_code,
)

WINDOW_SECONDS = 15 * 60

if TYPE_CHECKING:
    from django.contrib.auth.forms import AuthenticationForm

    # _Limited is only ever mixed into a sign-in form; this lets the type checker see
    # ``self.data``, ``self.request`` and ``super().clean()``.
    _FormBase = AuthenticationForm
else:
    _FormBase = object


def _limits(username: str, request) -> list[tuple[ratelimit.Rule, str]]:
    """The two limits on failures: one username from one client, and one client for any."""
    allowed = settings.ZBOR_LOGIN_FAILURES_ALLOWED
    client = ratelimit.client_hash(request)
    user = ratelimit.salted_hash("user", username.lower())
    return [
        (ratelimit.Rule("login-user", allowed, WINDOW_SECONDS), f"{client}:{user}"),
        (ratelimit.Rule("login-client", allowed * 4, WINDOW_SECONDS), client),
    ]


def throttled(username: str, request) -> bool:
    return any(ratelimit.reached(rule, subject) for rule, subject in _limits(username, request))


def record_failure(username: str, request) -> None:
    for rule, subject in _limits(username, request):
        ratelimit.hit(rule, subject)


class _Limited(_FormBase):
    def clean(self):
        username = (self.data.get("username") or "").strip()
        if throttled(username, self.request):
            raise ValidationError(_("Too many failed sign-ins. Wait 15 minutes and try again."), code="throttled")
        try:
            return super().clean()
        except ValidationError:
            record_failure(username, self.request)
            raise


class LimitedLoginForm(_Limited, AdminAuthenticationForm):
    pass


class TwoFactorLoginForm(AdminAuthenticationForm):
    """Password and authenticator code in one step, with one answer for every failure.

    Both are checked before anything is said: a wrong password, a right password with a wrong
    (or missing, or throttled) code, an unknown or inactive account and a non-staff account all
    give the same message, with the same status, and the form never shows that the password was
    right (no device list, no password kept in the field). The code is tried against each of the
    user's confirmed devices of Zbor's own two classes — an authenticator app, recovery codes
    (``SIGN_IN_DEVICES``; never a plaintext django-otp device a previous release wrote) — as
    django-otp's ``match_token`` does, through each model's public ``devices_for_user``; devices
    that did not match are not left throttled by a sign-in that succeeded, so recovery codes stay
    usable.

    Timing: the cost of a failed attempt is the password hash, which runs for every attempt
    (Django hashes even for unknown usernames), and for anything shaped like a recovery code one
    scrypt hash, which runs whether or not the password was right (``_recovery_hashes_ahead``).
    Not equal: with the right password a wrong code also costs the devices' back-off, a locked
    read and one row written per device not already backed off, in one transaction (about 7 ms
    more on SQLite with one device, against about 230 ms for the password hash, whose own spread
    is wider than that). Spending the same writes on a wrong password would let anyone who knows
    a username back off that person's authenticator, so they are not; the sign-in throttle
    (``_Limited``) bounds how many answers can be timed.
    """

    otp_token = forms.CharField(
        label=_lazy("Authenticator code"),
        help_text=_lazy("The six digits your authenticator app shows, or one of your recovery codes."),
        required=False,
        max_length=64,
        strip=True,
        # No inputmode="numeric": a phone's digits-only keypad cannot type a recovery code.
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "none"}),
    )

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": _lazy(
            "Please enter the correct username, password and authenticator code of a staff account. "
            "Note that the username and password are case-sensitive."
        ),
    }

    def clean(self):
        try:
            super().clean()
            password_ok = self.user_cache is not None
        except ValidationError:
            password_ok = False
        user = self.user_cache if password_ok else None
        self.user_cache = None  # nothing on the page may tell a right password from a wrong one
        token = self.cleaned_data.get("otp_token") or ""
        hashes = _recovery_hashes_ahead(user, token)
        device = match_code(user, token) if user is not None and token else None
        if hashes == 0 and looks_like_recovery_code(token):
            # The hash a recovery code's check costs, spent when none was computed (a wrong
            # password, no codes, a back-off): the time taken never tells a right password.
            hash_recovery_code(token, _TIMING_SALT, RECOVERY_CODE_WORK)
        if user is None or device is None:
            raise ValidationError(self.error_messages["invalid_login"], code="invalid_login")
        for model in SIGN_IN_DEVICES:
            for other in model.objects.devices_for_user(user, confirmed=True):
                if other != device and isinstance(other, ThrottlingMixin):
                    other.throttle_reset()
        # django-otp's documented hand-over: login() marks the session verified with this device.
        user.otp_device = device  # type: ignore[attr-defined]
        self.user_cache = user
        return self.cleaned_data


_TIMING_SALT = "00" * 16


def match_code(user, token: str):
    """The confirmed device of ``user``, of Zbor's own classes only, that accepts ``token`` (and
    records its use), or None. As django-otp's ``match_token``: one transaction, each device read
    locked (two sign-ins racing with one code: one wins), tried in ``SIGN_IN_DEVICES`` order."""
    with transaction.atomic():
        for model in SIGN_IN_DEVICES:
            for device in model.objects.devices_for_user(user, confirmed=True).select_for_update():
                if device.verify_token(token):
                    return device
    return None


def _recovery_hashes_ahead(user, token: str) -> int:
    """How many recovery-code hashes checking ``token`` for ``user`` will compute (one per set of
    codes not backed off), counted before the check changes any back-off."""
    if user is None or not token or not looks_like_recovery_code(token):
        return 0
    devices = RecoveryCodeDevice.objects.filter(user=user, confirmed=True)
    return sum(1 for device in devices if device.verify_is_allowed()[0])


class LimitedOTPLoginForm(_Limited, TwoFactorLoginForm):
    pass
