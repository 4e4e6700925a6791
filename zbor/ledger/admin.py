"""The ledger, read-only: accounts with their balances, groups with their transfers."""

from django.contrib import admin

from zbor.admin_base import ReadOnlyAdmin

from .models import Account, Transfer, TransferGroup


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["code", "kind", "currency", "debits_posted", "credits_posted"]
    list_filter = ["kind", "currency"]
    search_fields = ["code"]


_TRANSFER_FIELDS = ("debit_account", "credit_account", "amount", "currency", "kind")


class TransferInline(admin.TabularInline):
    model = Transfer
    fields = _TRANSFER_FIELDS
    readonly_fields = _TRANSFER_FIELDS
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(TransferGroup)
class TransferGroupAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "key", "kind", "transfer_count"]
    list_filter = ["kind", "created_at"]
    search_fields = ["key", "reference"]
    inlines = [TransferInline]
