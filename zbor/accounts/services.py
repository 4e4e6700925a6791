"""Writing the audit log (call ``audit`` inside the same transaction as the action it records),
and the role check every service makes of the person acting (``require``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext as _

from .models import AuditEvent

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

    # The mixin is only ever combined with a ModelAdmin; telling the type checker so lets it
    # check the ``super()`` calls below.
    _AdminBase = ModelAdmin[Any]
else:
    _AdminBase = object


def require(user, perm: str, message: str = "") -> None:
    """Raise PermissionDenied, with ``message`` or "Your role may not do this.", unless
    ``user`` holds ``perm``: services check the person acting themselves, whoever calls them."""
    if user is None or not user.has_perm(perm):
        raise PermissionDenied(message or _("Your role may not do this."))


def audit(
    actor, action: str, obj: models.Model | None = None, *, fields: Iterable[str] = (), label: str = ""
) -> AuditEvent:
    """Record that ``actor`` (a user, or None for a command named by ``label``) did ``action``.

    ``fields`` names what was read or changed; values are never recorded, so the log itself
    holds no secret.
    """
    user = actor if getattr(actor, "pk", None) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_label=(user.get_username() if user else label or "system")[:150],
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        fields=sorted(set(fields)),
    )


def audit_refused_lookup(sender, *, request, fields, **kwargs) -> None:
    """Receiver of ``zbor.admin_base.lookup_refused``: probing a list is worth an audit row."""
    audit(request.user, "admin.lookup.refused", fields=fields)


def _field_names(message) -> list[str]:
    names: list[str] = []
    for part in message if isinstance(message, list) else []:
        for detail in part.values():
            names += [str(name) for name in detail.get("fields", [])]
    return names


class AuditedAdminMixin(_AdminBase):
    """Writes an audit row for every add, change and deletion made in the admin, naming the
    changed fields (never their values), beside Django's own admin history."""

    def log_addition(self, request, obj, message):
        audit(request.user, f"{obj._meta.label_lower}.add", obj, fields=_field_names(message))
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        audit(request.user, f"{obj._meta.label_lower}.change", obj, fields=_field_names(message))
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            audit(request.user, f"{obj._meta.label_lower}.delete", obj)
        return super().log_deletions(request, queryset)
