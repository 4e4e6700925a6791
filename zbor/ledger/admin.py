"""The ledger, read-only: accounts with their balances, groups with their transfers.

Money in major units with its currency ("€1,250"), accounts by a readable name ("Need: Winter
coat (Help to start again)", names.py) beside their code: never raw minor units or bare codes.
"""

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from zbor.admin_base import ReadOnlyAdmin
from zbor.money import Money, format_money

from .models import Account, AccountKind, Transfer, TransferGroup
from .names import account_names


def _money(amount: int, currency: str) -> str:
    return format_money(Money(amount, currency), get_language() or "en")


def _name_of(account: Account) -> str:
    name = getattr(account, "readable_name", None)
    return name if name is not None else account_names([account.code])[account.code]


class NamedAccountsChangeList(ChangeList):
    """Names the page's accounts together, in a fixed number of queries, however long the page."""

    def get_results(self, request):
        super().get_results(request)
        accounts = list(self.result_list)
        names = account_names(account.code for account in accounts)
        for account in accounts:
            account.readable_name = names[account.code]


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["name_column", "code", "kind", "debits_column", "credits_column", "balance_column"]
    list_filter = ["kind", "currency"]
    search_fields = ["code"]
    fields = ("name_column", "code", "kind", "debits_column", "credits_column", "balance_column")
    readonly_fields = fields

    def get_changelist(self, request, **kwargs):
        return NamedAccountsChangeList

    @admin.display(description=_("account"))
    def name_column(self, obj):
        return _name_of(obj)

    @admin.display(description=_("debits"), ordering="debits_posted")
    def debits_column(self, obj):
        return _money(obj.debits_posted, obj.currency)

    @admin.display(description=_("credits"), ordering="credits_posted")
    def credits_column(self, obj):
        return _money(obj.credits_posted, obj.currency)

    @admin.display(description=_("balance"))
    def balance_column(self, obj):
        """What the account holds on its normal side: credits less debits for a need, campaign
        or payouts account; debits less credits for money a provider holds or fees paid."""
        debit_normal = obj.kind in (
            AccountKind.PROVIDER,
            AccountKind.FEES,
            AccountKind.DISBURSED,
            AccountKind.EXPENSES,
        )
        return _money(obj.debit_balance if debit_normal else obj.credit_balance, obj.currency)


_TRANSFER_FIELDS = ("debit_column", "credit_column", "amount_column", "kind")


class TransferInline(admin.TabularInline):
    model = Transfer
    fields = _TRANSFER_FIELDS
    readonly_fields = _TRANSFER_FIELDS
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("debit_account", "credit_account")

    def has_add_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # A group is read with its transfers: whoever may view groups sees them (finance has
        # no separate permission for transfers, so without this the group page showed none).
        return request.user.has_perm("ledger.view_transfergroup")

    @admin.display(description=_("debit account"))
    def debit_column(self, obj):
        return _name_of(obj.debit_account)

    @admin.display(description=_("credit account"))
    def credit_column(self, obj):
        return _name_of(obj.credit_account)

    @admin.display(description=_("amount"))
    def amount_column(self, obj):
        return _money(obj.amount, obj.currency)


@admin.register(TransferGroup)
class TransferGroupAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "key", "kind", "transfer_count"]
    list_filter = ["kind", "created_at"]
    search_fields = ["key", "reference"]
    inlines = [TransferInline]
