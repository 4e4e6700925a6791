"""Admin building blocks shared by the apps."""

from django.contrib import admin


class ZborModelAdmin(admin.ModelAdmin):
    """The base of every admin screen in Zbor (list lookups, permission checks on custom views).

    Every ModelAdmin registered on Zbor's admin site builds on this class.
    """


class ReadOnlyAdmin(ZborModelAdmin):
    """Records that change only through services (money, provider events): no add, edit or delete."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SuperuserOnlyAdmin:
    """A screen only superusers see and change (roles, authenticator devices): managing people
    must not be a way to grant oneself more."""

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
