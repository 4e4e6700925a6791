from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "zbor.ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        # Read at each scrape (zbor/metrics.py): when the newest backup on this machine was made.
        from zbor import metrics

        from .metrics import backup_metrics

        metrics.register("backups", backup_metrics)
