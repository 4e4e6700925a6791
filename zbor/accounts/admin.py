"""The audit log, for admins: browse, filter, export. Read-only; the database refuses edits."""

from __future__ import annotations

import csv

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.urls import path

from zbor.admin_base import ReadOnlyAdmin

from .models import AuditEvent


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
