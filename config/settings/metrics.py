"""Metrics: a Prometheus endpoint (zbor/metrics.py; docs/deploy.md, "Metrics"), imported by
base.py (kept apart by size)."""

from .env import env_str

# Off unless a token is set: the scraper sends it as "Authorization: Bearer <token>" to /metrics.
ZBOR_METRICS_TOKEN = env_str("ZBOR_METRICS_TOKEN")
# With several server processes (granian --workers): a folder they share, emptied at every start
# (systemd's RuntimeDirectory), where each process keeps its counts for a scrape to add up
# (prometheus_client's multiprocess mode). Empty: one process, counts in its memory.
ZBOR_METRICS_DIR = env_str("ZBOR_METRICS_DIR")
