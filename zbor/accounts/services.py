"""Writing the audit log. Call ``audit`` inside the same transaction as the action it records."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models

from .models import AuditEvent


def audit(actor, action: str, obj: models.Model | None = None, *, fields: Iterable[str] = (), label: str = "") -> AuditEvent:
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
