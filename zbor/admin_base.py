"""Admin building blocks shared by the apps.

Every ModelAdmin on Zbor's admin site builds on ``ZborModelAdmin`` (the system check
``zbor.E001`` refuses to start otherwise). The base accepts on a list only the lookups that
admin declares: its filters' parameters, its date hierarchy, search, ordering, pagination.
Anything else (``?email__startswith=v``, ``?idempotency_key__gte=…``, ``?email__regex=(``)
answers 400: a count of rows must never become a way to read a private field one letter at
a time.
"""

from __future__ import annotations

import logging
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.contrib.admin import FieldListFilter, ListFilter
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.admin.views.main import ERROR_FLAG, IGNORED_PARAMS, PAGE_VAR
from django.core import checks
from django.core.exceptions import PermissionDenied
from django.dispatch import Signal
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from parler.admin import TranslatableAdmin

logger = logging.getLogger("zbor.security")

# The changelist's own parameters (Django's): never a lookup on a field.
LIST_PARAMETERS = frozenset({*IGNORED_PARAMS, PAGE_VAR, ERROR_FLAG})

#: Sent when a list refuses a lookup, with ``request`` and ``fields`` (parameter names, never the
#: values tried). The accounts app writes the audit row (zbor/accounts/apps.py): this helper
#: imports no app (.importlinter).
lookup_refused = Signal()


class ZborModelAdmin(admin.ModelAdmin):
    """The base of every admin screen in Zbor (list lookups, permission checks on custom views).

    Every ModelAdmin registered on Zbor's admin site builds on this class.
    """

    # -- list lookups ------------------------------------------------------------------------

    def declared_lookups(self, request) -> frozenset[str]:
        """The query parameters this admin's list understands as filters, and nothing else
        (worked out once per request, kept on it: some filters read the database to list their
        choices)."""
        declared = getattr(request, "_zbor_declared_lookups", None)
        if declared is None:
            declared = request._zbor_declared_lookups = frozenset(self._declared_lookups(request))
        return declared

    def _declared_lookups(self, request) -> set[str]:
        names: set[str] = set()
        item: Any
        for item in self.get_list_filter(request):
            if isinstance(item, type) and issubclass(item, ListFilter) and not issubclass(item, FieldListFilter):
                parameter = getattr(item, "parameter_name", None)
                if parameter:
                    names.add(parameter)
                else:  # a ListFilter that is not a SimpleListFilter: ask an instance
                    names.update(p for p in item(request, {}, self.model, self).expected_parameters() if p)
                continue
            if isinstance(item, (tuple, list)):
                field_path, create = str(item[0]), item[1]  # (field, FieldListFilter subclass)
            else:
                field_path, create = str(item), FieldListFilter.create
            field = get_fields_from_path(self.model, field_path)[-1]
            spec = create(field, request, {}, self.model, self, field_path=field_path)
            names.update(p for p in spec.expected_parameters() if p)
        hierarchy = self.date_hierarchy
        if hierarchy:
            names.update(f"{hierarchy}__{part}" for part in ("year", "month", "day"))
        return names

    def undeclared_lookups(self, request) -> list[str]:
        asked = [k for k in request.GET if k not in LIST_PARAMETERS]
        if not asked:  # a plain list: nothing to refuse, no filter to build
            return []
        declared = self.declared_lookups(request)
        return sorted(k for k in asked if k not in declared)

    def lookup_allowed(self, lookup, value, request):
        # Django's changelist asks this for every filter parameter and answers False with 400
        # (DisallowedModelAdminLookup). Only what the admin declares passes.
        return lookup in self.declared_lookups(request) and super().lookup_allowed(lookup, value, request)

    def changelist_view(self, request, extra_context=None):
        # Refuse before anything is counted, with a page that says what happened. Permission
        # first: someone who may not see the list learns nothing, not even that it refuses.
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        refused = self.undeclared_lookups(request)
        if refused:
            return self.refused_lookup_response(request, refused)
        return super().changelist_view(request, extra_context)

    def refused_lookup_response(self, request, refused: list[str]) -> TemplateResponse:
        logger.warning(
            "refused list lookup on %s by user %s: %s",
            self.opts.label_lower,
            request.user.pk,
            ", ".join(refused)[:200],
        )
        # Probing a list is worth an audit row: parameter names only, never the values tried.
        lookup_refused.send(
            sender=type(self),
            request=request,
            fields=[f"{self.opts.label_lower}:{name}"[:100] for name in refused[:10]],
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("This filter is not offered"),
            "message": _(
                "This list can only be filtered with the filters shown beside it, the search box and the date links. "
                "Other conditions in the address are refused."
            ),
            "refused": refused[:10],
        }
        return TemplateResponse(request, "admin/zbor_refused_lookup.html", context, status=400)

    # -- object views ------------------------------------------------------------------------

    def history_view(self, request, object_id, extra_context=None):
        # Django looks the object up first and redirects for a missing id, which lets anyone on
        # staff count the records of a model they may not see: refuse them first.
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        return super().history_view(request, object_id, extra_context)

    # -- custom views ------------------------------------------------------------------------

    def require(self, request, permission: str) -> None:
        """Refuse (403) unless the user holds ``permission``; call it before looking anything up,
        so a refused person cannot tell an existing id from a missing one."""
        if not request.user.has_perm(permission):
            raise PermissionDenied


class ZborTranslatableAdmin(TranslatableAdmin, ZborModelAdmin):
    """ZborModelAdmin for django-parler's translatable models."""

    def delete_translation(self, request, object_id, language_code):
        # parler looks the object up (404 when missing) before it checks the permission (403):
        # refuse first, so someone who may not delete cannot count records.
        if not self.has_delete_permission(request):
            raise PermissionDenied
        return super().delete_translation(request, object_id, language_code)


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


def registered_admins(site=None):
    """(model, ModelAdmin) for every model registered on the site, through its public API."""
    site = site or admin.site
    for model in apps.get_models():
        if site.is_registered(model):
            yield model, site.get_model_admin(model)


@checks.register(checks.Tags.admin)
def check_admins_build_on_zbor_base(app_configs=None, **kwargs):
    """zbor.E001: a ModelAdmin outside the base would accept any lookup on its list."""
    errors = []
    for model, model_admin in registered_admins():
        if not isinstance(model_admin, ZborModelAdmin):
            errors.append(
                checks.Error(
                    f"The admin of {model._meta.label} ({type(model_admin).__qualname__}) does not build on "
                    "zbor.admin_base.ZborModelAdmin.",
                    hint="Subclass ZborModelAdmin (or ReadOnlyAdmin); re-register third-party admins with a subclass.",
                    obj=type(model_admin),
                    id="zbor.E001",
                )
            )
    return errors
