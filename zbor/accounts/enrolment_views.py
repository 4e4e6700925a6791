"""The staff member's own two-factor set-up page, opened from a one-time enrolment link.

The link's secret is read once and swapped for a mark in the session, then the browser is sent
to a plain address: the secret does not stay in the address bar, history or later referrers.
"""

from __future__ import annotations

import base64

from django import forms
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login

from . import enrolment
from .models import EnrolmentLink

SESSION_LINK = "zbor_enrol_link"


class EnrolForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password1 = forms.CharField(
        label=gettext_lazy("Choose a password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=gettext_lazy("The same password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    otp_token = forms.RegexField(
        label=gettext_lazy("Six-digit code from the app"),
        regex=r"^\s*\d{6}\s*$",
        max_length=12,
        error_messages={"invalid": gettext_lazy("Enter the six digits the app shows.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, *args, user, device, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.device = user, device
        self.wrong = False  # a wrong password or code: counts against the link
        if user.has_usable_password():
            del self.fields["new_password1"], self.fields["new_password2"]
        else:
            del self.fields["password"]

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            self.wrong = True
            raise ValidationError(_("This is not your password."), code="wrong_password")
        return password

    def clean(self):
        data = super().clean() or {}
        self._check_new_password(data)
        # The code last, and only once all else is right: a code is accepted only once, so one
        # spent on a form that fails for another reason would leave the person waiting.
        token = (data.get("otp_token") or "").strip()
        if token and not self.errors:
            if not enrolment.check_code(self.device, token):
                self.wrong = True
                self.add_error(
                    "otp_token",
                    ValidationError(
                        _("This code is not right. Check the phone's clock and try the next code."), code="wrong_code"
                    ),
                )
        return data

    def _check_new_password(self, data):
        one, two = data.get("new_password1"), data.get("new_password2")
        if one is not None and two is not None:
            if one != two:
                self.add_error("new_password2", _("The two passwords differ."))
            else:
                try:
                    validate_password(one, self.user)
                except ValidationError as error:
                    self.add_error("new_password1", error)


def _context(request, **extra):
    from django.contrib import admin

    # Not each_context(): these pages are for a signed-out person (or one signed in a moment ago).
    site = admin.site
    return {
        "site_header": site.site_header,
        "site_title": site.site_title,
        "has_permission": False,
        "is_popup": False,
        **extra,
    }


def _invalid(request):
    # One answer for unknown, used, expired and spent links: the page tells nothing about which.
    response = render(
        request, "accounts/enrol_invalid.html", _context(request, title=_("This link cannot be used")), status=410
    )
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
def enrol_start(request, token: str):
    link = enrolment.open_link(token)
    if link is None:
        return _invalid(request)
    request.session.cycle_key()
    request.session[SESSION_LINK] = link.pk
    response = redirect(reverse("admin:enrol"))
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
@csrf_protect
@sensitive_post_parameters("password", "new_password1", "new_password2", "otp_token")
def enrol(request):
    link = EnrolmentLink.objects.filter(pk=request.session.get(SESSION_LINK) or 0).select_related("user").first()
    if link is None or not enrolment.usable(link):
        return _invalid(request)
    user = link.user
    device = enrolment.pending_device(link)
    form = EnrolForm(request.POST if request.method == "POST" else None, user=user, device=device)
    if request.method == "POST":
        if form.is_valid():
            new_password = form.cleaned_data.get("new_password1")
            codes = enrolment.complete(link, device, new_password)
            if codes is None:
                return _invalid(request)
            request.session.pop(SESSION_LINK, None)
            login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
            otp_login(request, device)
            return render(
                request,
                "accounts/enrol_done.html",
                _context(request, title=_("Two-factor sign-in is on"), codes=codes, next=reverse("admin:index")),
            )
        if form.wrong:
            enrolment.record_failure(link)
            if not enrolment.usable(link):
                request.session.pop(SESSION_LINK, None)
                return _invalid(request)
    secret = base64.b32encode(device.bin_key).decode()
    context = _context(
        request,
        **{
            "title": _("Set up two-factor sign-in"),
            "form": form,
            "username": user.get_username(),
            "qr": enrolment.qr_svg(device.config_url),
            "secret_groups": [secret[i : i + 4] for i in range(0, len(secret), 4)],
            "failures_left": enrolment.LINK_FAILURES_ALLOWED - link.failures,
        },
    )
    return render(request, "accounts/enrol.html", context)
