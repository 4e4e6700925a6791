"""Fewer index pages written with every donation: the campaign's own index goes (the
campaign-first indexes serve it), and the need, payment reference, charge reference and message
indexes keep only the donations that have one.

AlterField would remake the donations table on SQLite (a copy of every row) only to drop an
index; here the plain single-column indexes are dropped as they are, and the model state is
changed alongside.
"""

import django.db.models.deletion
from django.db import migrations, models

FIELDS = ["campaign", "need", "payment_reference", "charge_reference"]


def _plain_indexes(apps, schema_editor) -> list[str]:
    """The non-unique one-column indexes Django made for FIELDS (with PostgreSQL's ``_like``
    twins of the text columns)."""
    model = apps.get_model("donations", "Donation")
    columns = {model._meta.get_field(name).column for name in FIELDS}
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return sorted(
        name
        for name, info in constraints.items()
        if info["index"] and not info["unique"] and not info["primary_key"]
        and info["columns"] is not None and len(info["columns"]) == 1 and info["columns"][0] in columns
        and not name.startswith("donation_")  # named here, not by Django
    )


def drop_plain_indexes(apps, schema_editor):
    for name in _plain_indexes(apps, schema_editor):
        schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def restore_plain_indexes(apps, schema_editor):
    """Going back: the plain indexes again (not PostgreSQL's ``_like`` twins, which served only
    ``LIKE 'x%'`` lookups nothing makes)."""
    model = apps.get_model("donations", "Donation")
    table = model._meta.db_table
    for name in FIELDS:
        column = model._meta.get_field(name).column
        index = schema_editor._create_index_name(table, [column])
        schema_editor.execute(
            f"CREATE INDEX {schema_editor.quote_name(index)} ON {schema_editor.quote_name(table)} ({schema_editor.quote_name(column)})"
        )


class Migration(migrations.Migration):

    dependencies = [
        ("campaigns", "0003_campaign_newest_index"),
        ("donations", "0006_confirmation_queue"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="donation", name="donation_campaign_message"),
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop_plain_indexes, restore_plain_indexes)],
            state_operations=[
                migrations.AlterField(
                    model_name="donation",
                    name="campaign",
                    field=models.ForeignKey(
                        db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="+",
                        to="campaigns.campaign", verbose_name="campaign",
                    ),
                ),
                migrations.AlterField(
                    model_name="donation",
                    name="charge_reference",
                    field=models.CharField(blank=True, max_length=255, verbose_name="charge reference"),
                ),
                migrations.AlterField(
                    model_name="donation",
                    name="need",
                    field=models.ForeignKey(
                        blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT,
                        related_name="+", to="campaigns.need", verbose_name="need",
                    ),
                ),
                migrations.AlterField(
                    model_name="donation",
                    name="payment_reference",
                    field=models.CharField(blank=True, max_length=255, verbose_name="payment reference"),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="donation",
            index=models.Index(
                condition=models.Q(("message_status", ""), _negated=True),
                fields=["campaign", "message_status"],
                name="donation_campaign_message",
            ),
        ),
        migrations.AddIndex(
            model_name="donation",
            index=models.Index(condition=models.Q(("need__isnull", False)), fields=["need"], name="donation_need"),
        ),
        migrations.AddIndex(
            model_name="donation",
            index=models.Index(
                condition=models.Q(("payment_reference", ""), _negated=True),
                fields=["payment_reference"],
                name="donation_payment_reference",
            ),
        ),
        migrations.AddIndex(
            model_name="donation",
            index=models.Index(
                condition=models.Q(("charge_reference", ""), _negated=True),
                fields=["charge_reference"],
                name="donation_charge_reference",
            ),
        ),
    ]
