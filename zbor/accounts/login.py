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
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django_otp import devices_for_user, match_token
from django_otp.models import ThrottlingMixin

from zbor import ratelimit

from .models import RECOVERY_CODE_WORK, RecoveryCodeDevice, hash_recovery_code, looks_like_recovery_code

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
    user's confirmed devices — an authenticator app, recovery codes — through django-otp's
    public ``match_token``; devices that did not match are not left throttled by a sign-in that
    succeeded, so recovery codes stay usable.

    Timing: the cost of a failed attempt is the password hash, which runs for every attempt
    (Django hashes even for unknown usernames), and for anything shaped like a recovery code one
    scrypt hash, which runs whether or not the password was right (``_recovery_hashes_ahead``);
    the code check adds a few queries at most.
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
        device = match_token(user, token) if user is not None and token else None
        if hashes == 0 and looks_like_recovery_code(token):
            # The hash a recovery code's check costs, spent when none was computed (a wrong
            # password, no codes, a back-off): the time taken never tells a right password.
            hash_recovery_code(token, _TIMING_SALT, RECOVERY_CODE_WORK)
        if user is None or device is None:
            raise ValidationError(self.error_messages["invalid_login"], code="invalid_login")
        for other in devices_for_user(user):
            if other != device and isinstance(other, ThrottlingMixin):
                other.throttle_reset()
        # django-otp's documented hand-over: login() marks the session verified with this device.
        user.otp_device = device  # type: ignore[attr-defined]
        self.user_cache = user
        return self.cleaned_data


_TIMING_SALT = "00" * 16


def _recovery_hashes_ahead(user, token: str) -> int:
    """How many recovery-code hashes checking ``token`` for ``user`` will compute (one per set of
    codes not backed off), counted before the check changes any back-off."""
    if user is None or not token or not looks_like_recovery_code(token):
        return 0
    devices = RecoveryCodeDevice.objects.filter(user=user, confirmed=True)
    return sum(1 for device in devices if device.verify_is_allowed()[0])


class LimitedOTPLoginForm(_Limited, TwoFactorLoginForm):
    pass
