from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "zbor.accounts"
    verbose_name = _("People and audit")

    def ready(self):
        from .roles import sync_roles_after_migrate

        # Infrastructure, not domain flow: the role groups follow the code after every migrate.
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="zbor.accounts.sync_roles")
