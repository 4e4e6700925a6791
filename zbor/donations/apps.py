from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DonationsConfig(AppConfig):
    name = "zbor.donations"
    verbose_name = _("Donations")

    def ready(self):
        from zbor.ledger.names import register_namer

        from .account_names import AccountNamer

        # The ledger names its accounts by need, campaign and provider through this app, which
        # knows all three (the ledger imports no other app: .importlinter).
        register_namer(AccountNamer())
