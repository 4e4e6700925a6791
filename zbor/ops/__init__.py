"""Operations: encrypted backups of the database and files, and restoring them (docs/deploy.md)."""
