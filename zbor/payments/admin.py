from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from zbor.accounts.services import AuditedAdminMixin
from zbor.admin_base import ReadOnlyAdmin, ZborModelAdmin

from .models import PaymentEventRecord, StatementLayout


@admin.register(PaymentEventRecord)
class PaymentEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "provider", "type", "status", "attempts", "error"]
    list_filter = ["provider", "type", "status"]
    search_fields = ["event_id", "checkout_reference", "payment_reference"]
    readonly_fields = [f.name for f in PaymentEventRecord._meta.fields]


@admin.register(StatementLayout)
class StatementLayoutAdmin(AuditedAdminMixin, ZborModelAdmin):
    """Finance saves here how each bank writes its CSV statements; the import form offers them.

    The add form takes its initial values from the URL, which is how the import form hands over
    a layout it detected. No one deletes a layout in the back office: the lines imported with
    it are known by its id, and a new layout for the same bank would import them again.
    """

    list_display = ["name", "encoding", "delimiter", "date_format", "header_line"]
    search_fields = ["name"]
    fieldsets = [
        (None, {"fields": ["name"]}),
        (
            _("The file"),
            {
                "fields": [
                    "encoding",
                    "delimiter",
                    "decimal_separator",
                    "thousands_separator",
                    "date_format",
                    "header_line",
                    "footer_lines",
                ]
            },
        ),
        (
            _("The columns, as the header line names them"),
            {
                "fields": [
                    "date_column",
                    "amount_column",
                    "direction_column",
                    "credit_marker",
                    "debit_marker",
                    "credit_column",
                    "debit_column",
                    "currency_column",
                    "currency",
                    "reference_columns",
                    "transaction_id_column",
                ],
                "description": _("Only these columns are read. The payer's name and account are never read or kept."),
            },
        ),
    ]

    def has_delete_permission(self, request, obj=None):
        return False
