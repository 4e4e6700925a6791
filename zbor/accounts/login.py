"""Staff sign-in: two-factor (TOTP) when required, and a limit on failed attempts.

Failed attempts are counted as salted, daily-rotating hashes (the raw IP address is never
stored). Sign-in is refused for 15 minutes after ZBOR_LOGIN_FAILURES_ALLOWED failures for one
username *from one client* — so guessing a colleague's username from elsewhere cannot lock
them out — and after four times as many failures from one client for any usernames. Behind a
reverse proxy, ZBOR_CLIENT_IP_HEADER names the header carrying the real client address, read only
from ZBOR_TRUSTED_PROXIES (``zbor.ratelimit.client_address``, the same client as the donate limits).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm

from zbor.ratelimit import client_hash, salted_hash

from .models import LoginFailure

WINDOW = timedelta(minutes=15)

if TYPE_CHECKING:
    from django.contrib.auth.forms import AuthenticationForm

    # _Limited is only ever mixed into a sign-in form; this lets the type checker see
    # ``self.data``, ``self.request`` and ``super().clean()``.
    _FormBase = AuthenticationForm
else:
    _FormBase = object


def throttled(username: str, request) -> bool:
    recent = LoginFailure.objects.filter(at__gte=timezone.now() - WINDOW, client_hash=client_hash(request))
    limit = settings.ZBOR_LOGIN_FAILURES_ALLOWED
    if recent.filter(username_hash=salted_hash("user", username.lower())).count() >= limit:
        return True
    return recent.count() >= limit * 4


def record_failure(username: str, request) -> None:
    LoginFailure.objects.create(username_hash=salted_hash("user", username.lower()), client_hash=client_hash(request))
    LoginFailure.objects.filter(at__lt=timezone.now() - WINDOW * 4).delete()


class _Limited(_FormBase):
    def clean(self):
        username = (self.data.get("username") or "").strip()
        if throttled(username, self.request):
            raise ValidationError(
                _("Too many failed sign-ins. Wait 15 minutes and try again."), code="throttled"
            )
        try:
            return super().clean()
        except ValidationError:
            record_failure(username, self.request)
            raise


class LimitedLoginForm(_Limited, AdminAuthenticationForm):
    pass


class LimitedOTPLoginForm(_Limited, OTPAdminAuthenticationForm):
    def _chosen_device(self, user):
        # One authenticator app per person is the usual case: use it without asking to pick.
        device = super()._chosen_device(user)
        if device is None:
            devices = list(devices_for_user(user))
            if len(devices) == 1:
                device = devices[0]
        return device
