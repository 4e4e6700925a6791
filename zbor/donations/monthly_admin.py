"""Finance's "Monthly gifts" screen: every gift with its campaign, amount, method and state,
its payments (read only), and stopping one. Like the donations list, the donor's email is not
shown, searched or filtered on: finance's work is the money, not the person."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.html import format_html
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _

from zbor.admin_base import ReadOnlyAdmin
from zbor.money import Money, format_money
from zbor.payments.base import PaymentError

from . import services
from .models import Donation, MonthlyGift, MonthlyStatus, StopReason
from .services.monthly_changes import MANAGE


def _money(amount: int, currency: str) -> str:
    return format_money(Money(amount, currency), get_language() or "en")


class PaymentsInline(admin.TabularInline):
    """Each month's donation, read only (the Donations screen has the rest)."""

    model = Donation
    fk_name = "monthly_gift"
    fields = ("short_id", "amount_column", "status", "campaign", "succeeded_at")
    readonly_fields = ("short_id", "amount_column", "status", "campaign", "succeeded_at")
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name = _("payment")
    verbose_name_plural = _("payments")
    ordering = ["-pk"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("donation"))
    def short_id(self, obj):
        return str(obj.public_id)[:8]

    @admin.display(description=_("amount"))
    def amount_column(self, obj):
        return _money(obj.amount, obj.currency)


@admin.register(MonthlyGift)
class MonthlyGiftAdmin(ReadOnlyAdmin):
    list_display = [
        "reference_column",
        "campaign",
        "amount_column",
        "provider",
        "status",
        "started_at",
        "last_paid_at",
        "next_expected_on",
    ]
    list_filter = ["status", "provider", "campaign"]
    search_fields = ["public_id", "reference"]
    list_select_related = ["campaign"]
    actions = ["stop"]
    inlines = [PaymentsInline]
    # The email (and the idempotency key, the checkout link) are not finance's work: like on
    # the donations screen they are not shown, searched or filtered on.
    exclude = ["email", "idempotency_key", "checkout_url", "amount"]
    readonly_fields = ["amount_column"]

    @admin.display(description=_("reference"), ordering="reference")
    def reference_column(self, obj):
        return obj.reference or str(obj.public_id)[:8]

    @admin.display(description=_("amount"), ordering="amount")
    def amount_column(self, obj):
        return _money(obj.amount, obj.currency)

    def changelist_view(self, request, extra_context=None):
        """Above the list: how many bank standing orders lapsed (two expected months without a
        transfer, ``services.standing_orders``), linked to them. Not a difference in the books."""
        lapsed = services.lapsed_count()
        if lapsed:
            text = _("Standing orders lapsed (two expected months without a transfer): %(count)d") % {"count": lapsed}
            link = format_html('<a href="?status__exact={}">{}</a>', MonthlyStatus.LAPSED.value, text)
            extra_context = {**(extra_context or {}), "subtitle": link}
        return super().changelist_view(request, extra_context)

    def has_stop_permission(self, request):
        return request.user.has_perm(MANAGE)

    @admin.action(description=_("Stop the selected monthly gifts"), permissions=["stop"])
    def stop(self, request, queryset):
        stopped = 0
        for gift in queryset.exclude(status=MonthlyStatus.STOPPED).order_by("pk"):
            try:
                stopped += services.stop_monthly(gift, reason=StopReason.STAFF, by=request.user)
            except PermissionDenied:
                raise
            except PaymentError:
                messages.error(
                    request, _("The payment provider did not stop gift %(gift)s: try again.") % {"gift": gift}
                )
        self.message_user(
            request,
            ngettext("%(count)d monthly gift stopped.", "%(count)d monthly gifts stopped.", stopped)
            % {"count": stopped},
        )
