from django.contrib import admin

from zbor.admin_base import ReadOnlyAdmin

from .models import PaymentEventRecord


@admin.register(PaymentEventRecord)
class PaymentEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "provider", "type", "status", "attempts", "error"]
    list_filter = ["provider", "type", "status"]
    search_fields = ["event_id", "checkout_reference", "payment_reference"]
    readonly_fields = [f.name for f in PaymentEventRecord._meta.fields]
