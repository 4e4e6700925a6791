"""Staff sign-in: two-factor (TOTP) when required, and a limit on failed attempts.

Failed attempts are counted per username and per client, both as salted hashes (the raw IP
address is never stored): more than ZBOR_LOGIN_FAILURES_ALLOWED in 15 minutes and sign-in
is refused for that username or client until the window passes.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm

from .models import LoginFailure

WINDOW = timedelta(minutes=15)


def _hash(kind: str, value: str) -> str:
    # Salted with the secret key and the day: useless to anyone who only has the database.
    salt = f"{settings.SECRET_KEY}:{timezone.now().date().isoformat()}:{kind}"
    return hashlib.sha256(f"{salt}:{value}".encode()).hexdigest()


def _client(request) -> str:
    return _hash("client", request.META.get("REMOTE_ADDR", "") if request is not None else "")


def throttled(username: str, request) -> bool:
    since = timezone.now() - WINDOW
    recent = LoginFailure.objects.filter(at__gte=since).filter(
        Q(username_hash=_hash("user", username.lower())) | Q(client_hash=_client(request))
    )
    return recent.count() >= settings.ZBOR_LOGIN_FAILURES_ALLOWED


def record_failure(username: str, request) -> None:
    LoginFailure.objects.create(username_hash=_hash("user", username.lower()), client_hash=_client(request))
    LoginFailure.objects.filter(at__lt=timezone.now() - WINDOW * 4).delete()


class _Limited:
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
