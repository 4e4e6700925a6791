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

        # What the metrics read at each scrape (zbor/metrics.py): this app holds the queue's
        # work and the donations' state.
        from zbor import metrics, tasks

        from .metrics import database_metrics

        metrics.register("database", database_metrics)
        metrics.register("tasks", tasks.queue_metrics)
