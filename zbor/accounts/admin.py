"""The audit log, for admins: browse, filter, export. Read-only; the database refuses edits."""

from __future__ import annotations

import csv

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from zbor.admin_base import ReadOnlyAdmin, SuperuserOnlyAdmin, ZborModelAdmin

from .models import AuditEvent
from .services import AuditedAdminMixin


class _Echo:
    def write(self, value):
        return value


def stream_csv(filename: str, header: list[str], rows) -> StreamingHttpResponse:
    """A CSV download written row by row: a year of data never sits in memory."""
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

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
        return [path("export/", self.admin_site.admin_view(self.export_view), name="accounts_auditevent_export")] + super().get_urls()

    def export_view(self, request):
        if not request.user.has_perm("accounts.export_auditevent"):
            raise PermissionDenied
        rows = AuditEvent.objects.order_by("at", "pk").values_list("at", "actor_label", "action", "object_type", "object_id", "fields")
        return stream_csv(
            "audit-log.csv",
            ["when", "who", "action", "object type", "object id", "fields"],
            ((at.isoformat(), who, action, otype, oid, " ".join(fields)) for at, who, action, otype, oid, fields in rows.iterator(2000)),
        )


# People and roles: the same admin screens as Django's, with every change in the audit log.
admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class AuditedUserAdmin(AuditedAdminMixin, UserAdmin, ZborModelAdmin):
    list_display = ["username", "is_active", "is_staff", "roles", "last_login"]
    list_filter = ["is_active", "is_staff", "groups"]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        # Managing people is not a way to grant oneself everything: only a superuser makes one.
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += ["is_superuser", "user_permissions"]
        return readonly

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


class SuperuserOnlyTOTPAdmin(SuperuserOnlyAdmin, AuditedAdminMixin, TOTPDeviceAdmin, ZborModelAdmin):
    """Authenticator devices: only a superuser (or `zbor totp-enroll` on the server) manages them,
    so nobody can attach their own phone to someone else's account."""


admin.site.unregister(TOTPDevice)
admin.site.register(TOTPDevice, SuperuserOnlyTOTPAdmin)
