"""What each `zbor reconcile` found, for the metrics (zbor/donations/metrics.py): when it ran and
how many differences it reported. Counts only: the report's lines stay in the command's output."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReconcileRun(models.Model):
    finished_at = models.DateTimeField(_("finished"), auto_now_add=True, db_index=True)
    #: Lines of the report that are differences (0: clean).
    differences = models.PositiveIntegerField(_("differences"))
    #: Which providers' records it read besides the database: "stripe-export", "stripe-monthly", "btcpay".
    checked = models.CharField(_("also checked"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("reconcile run")
        verbose_name_plural = _("reconcile runs")

    def __str__(self) -> str:
        return f"{self.finished_at:%Y-%m-%d %H:%M} {self.differences}"
