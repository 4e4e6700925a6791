from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "zbor.accounts"
    verbose_name = _("People and audit")

    def ready(self):
        from zbor.admin_base import lookup_refused
        from zbor.crypto import register_encrypted

        from .legacy_codes import move_leftovers_after_migrate
        from .models import AuthenticatorDevice, EnrolmentLink
        from .roles import sync_roles_after_migrate
        from .services import audit_refused_lookup

        # Infrastructure, not domain flow: the role groups follow the code after every migrate.
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="zbor.accounts.sync_roles")
        # Keys and recovery codes an old server wrote in plain text during a rolling upgrade: moved.
        post_migrate.connect(move_leftovers_after_migrate, dispatch_uid="zbor.accounts.move_leftover_secrets")
        # The admin base (a root helper) reports refused list lookups; the audit log is here.
        lookup_refused.connect(audit_refused_lookup, dispatch_uid="zbor.accounts.audit_refused_lookup")
        # Authenticator keys, of devices and of links being set up: re-encrypted by key rotation.
        register_encrypted(AuthenticatorDevice, fields=("key_secret",))
        register_encrypted(EnrolmentLink, fields=("pending_key_secret",))
