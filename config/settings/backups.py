"""Backups and alerts (zbor/ops; docs/deploy.md "Backups"), imported by base.py."""

from pathlib import Path

from .env import env_list, env_str

# Where `zbor backup` writes its archives (created 0700 if missing).
ZBOR_BACKUP_DIR = Path(env_str("ZBOR_BACKUP_DIR", "/var/backups/zbor"))
# The keepers' age public keys (age1..., one a line) every backup is encrypted to. The server
# holds only these: it can write backups, never read them.
ZBOR_BACKUP_RECIPIENTS = Path(env_str("ZBOR_BACKUP_RECIPIENTS", "/etc/zbor/backup-recipients.txt"))
# Who `zbor failure_mail UNIT` writes to when a systemd unit fails (comma-separated addresses).
ZBOR_ALERT_EMAILS = env_list("ZBOR_ALERT_EMAILS", [])
