"""The audit log, for admins: browse, filter, export. Read-only; the database refuses edits."""

from __future__ import annotations

import csv
import re

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static import admin as otp_static_admin
from django_otp.plugins.otp_totp import admin as otp_totp_admin

from zbor.admin_base import ReadOnlyAdmin, SuperuserOnlyAdmin, ZborModelAdmin

from . import enrolment, staff_admin  # noqa: F401  (staff_admin registers the staff change requests' screens)
from .models import AuditEvent, AuthenticatorDevice, DeviceReset, EnrolmentLink, RecoveryCode, RecoveryCodeDevice
from .services import AuditedAdminMixin


class NewStaffForm(forms.ModelForm):
    """A new account: a name, no password (set through enrolment), no role, no back-office access."""

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name"]

    def save(self, commit=True):
        user = super().save(commit=False)
        user.set_unusable_password()
        if commit:
            user.save()
        return user


class _Echo:
    def write(self, value):
        return value


#: A cell starting with one of these is a formula to a spreadsheet (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def csv_cell(value):
    """A cell a spreadsheet shows as text, never runs: text that starts like a formula (a need
    named "=HYPERLINK(…)", a username "@cmd") gets a leading apostrophe. Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def stream_csv(filename: str, header: list[str], rows) -> StreamingHttpResponse:
    """A CSV download written row by row: a year of data never sits in memory. Every cell goes
    through ``csv_cell``: no text in it can run as a formula."""
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([csv_cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_label", "action", "object_type", "object_id", "fields"]
    list_filter = ["action", "object_type", "at"]
    search_fields = ["actor_label", "action", "object_id"]
    date_hierarchy = "at"
    change_list_template = "admin/accounts/auditevent/change_list.html"

    def get_urls(self):
        return [
            path("export/", self.admin_site.admin_view(self.export_view), name="accounts_auditevent_export")
        ] + super().get_urls()

    def export_view(self, request):
        if not request.user.has_perm("accounts.export_auditevent"):
            raise PermissionDenied
        rows = AuditEvent.objects.order_by("at", "pk").values_list(
            "at", "actor_label", "action", "object_type", "object_id", "fields"
        )
        return stream_csv(
            "audit-log.csv",
            ["when", "who", "action", "object type", "object id", "fields"],
            (
                (at.isoformat(), who, action, otype, oid, " ".join(fields))
                for at, who, action, otype, oid, fields in rows.iterator(2000)
            ),
        )


# People and roles: the same admin screens as Django's, with every change in the audit log.
admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class AuditedUserAdmin(AuditedAdminMixin, UserAdmin, ZborModelAdmin):
    list_display = ["username", "is_active", "is_staff", "roles", "last_login"]
    list_filter = ["is_active", "is_staff", "groups"]
    # A new account has no password and no role: the person sets a password through enrolment,
    # and roles come through a request that a second admin approves.
    add_form = NewStaffForm
    add_fieldsets = ((None, {"classes": ["wide"], "fields": ["username", "first_name", "last_name"]}),)
    change_form_template = "admin/accounts/user_change_form.html"

    def get_urls(self):
        view = self.admin_site.admin_view(self.two_factor_view)
        return [path("<path:object_id>/two-factor/", view, name="auth_user_two_factor")] + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "may_manage_two_factor": enrolment.may_manage(request.user)}
        return super().change_view(request, object_id, form_url, extra_context)

    def two_factor_view(self, request, object_id):
        """Enrolment links and lost-phone resets for one staff member (admins only)."""
        # Permission first, before any lookup: others get 403 whether or not the id exists.
        if not enrolment.may_manage(request.user):
            raise PermissionDenied
        user = self.get_object(request, object_id)
        if user is None:
            raise Http404
        link_url = error = None
        if request.method == "POST":
            try:
                token = self._two_factor_action(request, user)
            except enrolment.EnrolmentError as refused:
                error = str(refused)
            else:
                if token:
                    link_url = request.build_absolute_uri(reverse("admin:enrol_start", args=[token]))
        self_or_refused = None
        try:
            enrolment.check_target(request.user, user)
        except enrolment.EnrolmentError as refused:
            self_or_refused = str(refused)
        now = timezone.now()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Two-factor sign-in: %(name)s") % {"name": user.get_username()},
            "subject": user,
            "opts": self.opts,
            "has_device": enrolment.has_device(user),
            "recovery_left": RecoveryCode.objects.filter(device__user=user, device__confirmed=True).count(),
            "open_links": EnrolmentLink.objects.filter(user=user, used_at__isnull=True, expires_at__gt=now).order_by(
                "-created_at"
            ),
            "pending_resets": DeviceReset.objects.filter(user=user, approved_at__isnull=True).select_related(
                "requested_by"
            ),
            "link_url": link_url,
            "error": error,
            "refused": self_or_refused,
            "me": request.user,
        }
        response = TemplateResponse(request, "admin/accounts/two_factor.html", context, status=400 if error else 200)
        response["Cache-Control"] = "no-store"
        response["Referrer-Policy"] = "no-referrer"
        return response

    def _two_factor_action(self, request, user) -> str | None:
        """Do what the admin chose for ``user``; the enrolment link's token, if one was made."""
        action = request.POST.get("action")
        if action == "link":
            return enrolment.create_link(request.user, user)
        if action == "request_reset":
            enrolment.request_reset(request.user, user)
            return None
        if action == "approve_reset":
            reset_id = request.POST.get("reset", "")
            if not reset_id.isdigit() or not DeviceReset.objects.filter(pk=reset_id, user=user).exists():
                raise enrolment.EnrolmentError(_("This reset is no longer waiting for approval."))
            return enrolment.approve_reset(request.user, int(reset_id))
        raise enrolment.EnrolmentError(_("Choose an action."))

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        # Managing people is not a way to grant oneself (or anyone) roles: they change only
        # through a request a second admin approves (zbor/accounts/staff_changes.py).
        readonly = [*super().get_readonly_fields(request, obj), "staff_change_links"]
        if not request.user.is_superuser:
            readonly += ["is_staff", "is_superuser", "groups", "user_permissions"]
        return readonly

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None:
            fieldsets.append((_("Roles and password: four-eyes"), {"fields": ["staff_change_links"]}))
        return fieldsets

    @admin.display(description=_("ask a second admin"))
    def staff_change_links(self, obj):
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:accounts_staffchangerequest_roles", args=[obj.pk]),
            _("Change roles"),
            reverse("admin:accounts_staffchangerequest_password", args=[obj.pk]),
            _("Reset password"),
        )

    def user_change_password(self, request, id, form_url=""):
        # Setting someone's password directly would let one admin take over a colleague's
        # account: only break-glass superusers may; everyone else asks a second admin.
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    @admin.display(description=_("roles"))
    def roles(self, obj):
        return ", ".join(g.name for g in obj.groups.all())


@admin.register(Group)
class AuditedGroupAdmin(AuditedAdminMixin, GroupAdmin, ZborModelAdmin):
    """Roles are defined in code (zbor/accounts/roles.py): admins see them, never edit them."""

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(AuthenticatorDevice)
class AuthenticatorDeviceAdmin(SuperuserOnlyAdmin, AuditedAdminMixin, ZborModelAdmin):
    """Authenticator devices: only a superuser sees them here, to rename, confirm, lift a back-off
    or delete one, so nobody can attach their own phone to someone else's account. Nobody sees a
    key or adds a device here: devices come from enrolment (whose QR code the person scans) or
    `zbor totp_enroll` on the server. Admins use the user's "two-factor" page instead."""

    list_display = ["user", "name", "created_at", "last_used_at", "confirmed"]
    list_filter = ["created_at", "last_used_at", "confirmed"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]
    fieldsets = [
        (None, {"fields": ["user", "name", "confirmed", "created_at", "last_used_at"]}),
        (_("Code settings"), {"fields": ["step", "t0", "digits", "tolerance", "drift"]}),
        (_("Back-off after wrong codes"), {"fields": ["throttling_failure_timestamp", "throttling_failure_count"]}),
    ]
    readonly_fields = ["user", "created_at", "last_used_at", "step", "t0", "digits", "tolerance", "drift"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    def has_add_permission(self, request):
        return False


@admin.register(RecoveryCodeDevice)
class RecoveryCodeDeviceAdmin(SuperuserOnlyAdmin, AuditedAdminMixin, ZborModelAdmin):
    """Recovery codes: only a superuser sees them here, as how many are left (the codes are not
    stored, only their hashes), to rename, confirm, lift a back-off or delete a set. Nobody adds
    codes here: staff get theirs once, at enrolment."""

    list_display = ["user", "name", "codes_left", "created_at", "last_used_at", "confirmed"]
    list_filter = ["created_at", "last_used_at", "confirmed"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]
    fieldsets = [
        (None, {"fields": ["user", "name", "confirmed", "codes_left", "created_at", "last_used_at"]}),
        (_("Back-off after wrong codes"), {"fields": ["throttling_failure_timestamp", "throttling_failure_count"]}),
    ]
    readonly_fields = ["user", "codes_left", "created_at", "last_used_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user").annotate(unused=Count("codes"))

    @admin.display(description=_("codes left"), ordering="unused")
    def codes_left(self, obj):
        return obj.unused

    def has_add_permission(self, request):
        return False


# django-otp's TOTP devices kept their keys in plain hex, its static devices their recovery codes
# in plain text; migrations 0008 and 0010 moved them into AuthenticatorDevice and
# RecoveryCodeDevice, and no screen may create one again. Their admin modules register the
# models when imported (here, or by the admin's autodiscovery, whichever comes first): imported
# above, so the registrations exist to be taken away.
admin.site.unregister(otp_totp_admin.TOTPDevice)
admin.site.unregister(otp_static_admin.StaticDevice)
