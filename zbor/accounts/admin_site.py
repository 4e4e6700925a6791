"""The staff admin site: rate-limited sign-in, and two-factor when ZBOR_REQUIRE_2FA is on
(always in production). Staff without a session verified by one of Zbor's own devices are
treated as not signed in (a session a previous release verified with a plaintext django-otp
device included)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin


class ZborAdminSite(admin.AdminSite):
    site_url = None  # no "view site" link that would leave the back office in the same tab

    def has_permission(self, request):
        if not super().has_permission(request):
            return False
        if not settings.ZBOR_REQUIRE_2FA:
            return True
        from .devices import SIGN_IN_DEVICES

        # OTPMiddleware's documented request.user.otp_device: the device the session was verified with.
        return request.user.is_verified() and isinstance(request.user.otp_device, SIGN_IN_DEVICES)

    def get_urls(self):
        from django.urls import path

        from .enrolment_views import enrol, enrol_start

        # Opened signed out, with a one-time link: the staff member sets up their own device.
        return [
            path("enrol/", enrol, name="enrol"),
            path("enrol/<str:token>/", enrol_start, name="enrol_start"),
        ] + super().get_urls()

    def login(self, request, extra_context=None):
        from .login import LimitedLoginForm, LimitedOTPLoginForm

        if settings.ZBOR_REQUIRE_2FA:
            self.login_form = LimitedOTPLoginForm
            self.login_template = "admin/accounts/login.html"
        else:
            self.login_form = LimitedLoginForm
            self.login_template = None
        return super().login(request, extra_context)
