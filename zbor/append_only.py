"""Database triggers that make tables append-only: UPDATE, DELETE (and TRUNCATE) are refused.

Used by the ledger's transfers and the audit log. The only way past the triggers is a row in
``append_only_maintenance``, a table Django does not manage. Nothing in Zbor writes it; the
test suite does, for the moment it empties its throw-away database between tests. Anyone who
can write that table can also drop the triggers: this guards against bugs and careless SQL,
not against the database's owner.
"""

from __future__ import annotations

from django.db import migrations

MAINTENANCE_TABLE = "append_only_maintenance"


def _sqlite(tables: list[str], up: bool) -> list[str]:
    if not up:
        return [f"DROP TRIGGER IF EXISTS {t}_no_{op}" for t in tables for op in ("update", "delete")]
    return [f"CREATE TABLE IF NOT EXISTS {MAINTENANCE_TABLE} (reason TEXT NOT NULL)"] + [
        f"""CREATE TRIGGER {t}_no_{op.lower()} BEFORE {op} ON {t}
            WHEN NOT EXISTS (SELECT 1 FROM {MAINTENANCE_TABLE})
            BEGIN SELECT RAISE(ABORT, 'append-only: {op} on {t} refused'); END"""  # noqa: S608 - table names from the models
        for t in tables
        for op in ("UPDATE", "DELETE")
    ]


def _postgres(tables: list[str], up: bool) -> list[str]:
    if not up:
        return [
            stmt
            for t in tables
            for stmt in (
                f"DROP TRIGGER IF EXISTS {t}_append_only ON {t}",
                f"DROP TRIGGER IF EXISTS {t}_no_truncate ON {t}",
            )
        ]
    return [
        f"CREATE TABLE IF NOT EXISTS {MAINTENANCE_TABLE} (reason text NOT NULL)",
        f"""CREATE OR REPLACE FUNCTION zbor_append_only() RETURNS trigger AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM {MAINTENANCE_TABLE}) THEN
                IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                RETURN NEW;
            END IF;
            RAISE EXCEPTION 'append-only: % on % refused', TG_OP, TG_TABLE_NAME;
        END;
        $$ LANGUAGE plpgsql""",  # noqa: S608 - a constant table name
    ] + [
        stmt
        for t in tables
        for stmt in (
            f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} FOR EACH ROW EXECUTE FUNCTION zbor_append_only()",
            f"CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} FOR EACH STATEMENT EXECUTE FUNCTION zbor_append_only()",
        )
    ]


def _runner(tables: list[str], up: bool):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        builders = {"sqlite": _sqlite, "postgresql": _postgres}
        if vendor not in builders:
            raise RuntimeError(f"No append-only triggers for {vendor}")
        for statement in builders[vendor](tables, up):
            schema_editor.execute(statement, params=None)

    return run


def append_only(*tables: str) -> migrations.RunPython:
    """A migration operation that puts the append-only triggers on these tables."""
    return migrations.RunPython(_runner(list(tables), True), _runner(list(tables), False))
