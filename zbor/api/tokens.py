"""Making, checking and revoking staff API tokens. Every use is in the audit log."""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from zbor.accounts.services import audit

from .models import ApiToken, Scope, scope_allowed

if TYPE_CHECKING:
    from django.contrib.auth.models import User

PREFIX = "zbor_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    user: User, *, name: str, scopes: list[str], by: User | None = None, label: str = ""
) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns (record, the token itself — shown once, never stored)."""
    unknown = set(scopes) - set(Scope.values)
    if unknown or not scopes:
        raise ValueError(f"scopes must be among {sorted(Scope.values)}")
    refused = sorted(s for s in scopes if not scope_allowed(user, s))
    if refused:
        raise ValueError(f"{user.get_username()}'s roles do not allow the work of {', '.join(refused)}")
    token = PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        record = ApiToken.objects.create(
            user=user, name=name, prefix=token[:10], token_hash=_hash(token), scopes=sorted(scopes)
        )
        audit(by, "api_token.create", record, fields=["scopes"], label=label)
    return record, token


def check_token(token: str) -> ApiToken | None:
    """The active token with this value and an active staff user, or None."""
    record = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=_hash(token), revoked_at__isnull=True, user__is_active=True, user__is_staff=True)
        .first()
    )
    if record is not None:
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=timezone.now())
    return record


def revoke_token(record: ApiToken, *, by: User) -> None:
    with transaction.atomic():
        ApiToken.objects.filter(pk=record.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        audit(by, "api_token.revoke", record, fields=["revoked_at"])
