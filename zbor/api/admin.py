from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from zbor.accounts.services import AuditedAdminMixin
from zbor.admin_base import ZborModelAdmin

from .models import ApiToken
from .tokens import revoke_token


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdminMixin, ZborModelAdmin):
    """Tokens are made with `zbor create_api_token` (the token is shown once); here admins see
    them and revoke them."""

    list_display = ["name", "prefix", "user", "scopes", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    readonly_fields = ["name", "prefix", "user", "scopes", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Revoke"), permissions=["change"])
    def revoke(self, request, queryset):
        for token in queryset:
            revoke_token(token, by=request.user)
        messages.success(request, _("Revoked."))
