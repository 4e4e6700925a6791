"""Staff API tokens: scoped, revocable, and stored only as a hash."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    IMPORT_STATEMENTS = "bank_statements:import", _("Import bank statements")
    READ_PENDING = "donations:pending:read", _("List pending bank-transfer donations")


#: What the token's owner must be allowed to do, through their current role, for a scope to
#: work. Checked when a token is made and again on every call: a token never outlives its
#: owner's role, and a scope never reaches further than the back office would let its owner go.
SCOPE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    Scope.IMPORT_STATEMENTS: ("donations.add_bankstatement", "donations.change_bankstatementline"),
    Scope.READ_PENDING: ("donations.view_donation", "donations.view_bankstatement"),
}


def scope_allowed(user, scope: str) -> bool:
    """Whether ``user``'s current roles allow the work of ``scope`` (False for an unknown scope)."""
    needed = SCOPE_PERMISSIONS.get(scope)
    return bool(needed) and user.is_active and user.is_staff and user.has_perms(needed)


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("acts as")
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("What uses it, e.g. 'bank sync'."))
    #: The token's first characters, shown to staff to tell tokens apart. Not secret on its own.
    prefix = models.CharField(_("prefix"), max_length=12, editable=False)
    #: SHA-256 of the whole token. The token itself is shown once, at creation, and never stored.
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("staff API token")
        verbose_name_plural = _("staff API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
