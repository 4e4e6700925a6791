"""The database itself refuses UPDATE and DELETE (and TRUNCATE) on ledger groups and transfers.

The only way past the triggers is a row in ``ledger_maintenance``, a table Django does not
manage. Nothing in Zbor writes it; the test suite does, for the moment it empties its
throw-away database between tests. Anyone who can write that table can also drop the
triggers: this guards against bugs and careless SQL, not against the database's owner.
"""

from django.db import migrations

TABLES = ["ledger_transfer", "ledger_transfergroup"]

SQLITE_UP = ["CREATE TABLE IF NOT EXISTS ledger_maintenance (reason TEXT NOT NULL)"] + [
    f"""CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table}
        WHEN NOT EXISTS (SELECT 1 FROM ledger_maintenance)
        BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only: {op} on {table} refused'); END"""
    for table in TABLES
    for op in ("UPDATE", "DELETE")
]
SQLITE_DOWN = [f"DROP TRIGGER IF EXISTS {table}_no_{op}" for table in TABLES for op in ("update", "delete")] + [
    "DROP TABLE IF EXISTS ledger_maintenance"
]

POSTGRES_UP = [
    "CREATE TABLE IF NOT EXISTS ledger_maintenance (reason text NOT NULL)",
    """CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM ledger_maintenance) THEN
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'ledger rows are append-only: % on % refused', TG_OP, TG_TABLE_NAME;
    END;
    $$ LANGUAGE plpgsql""",
] + [
    stmt
    for table in TABLES
    for stmt in (
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION ledger_append_only()",
    )
]
POSTGRES_DOWN = [
    stmt
    for table in TABLES
    for stmt in (f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}", f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
] + ["DROP FUNCTION IF EXISTS ledger_append_only()", "DROP TABLE IF EXISTS ledger_maintenance"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise RuntimeError(f"No append-only triggers for {schema_editor.connection.vendor}")
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_UP, "postgresql": POSTGRES_UP}),
            _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRES_DOWN}),
        )
    ]
