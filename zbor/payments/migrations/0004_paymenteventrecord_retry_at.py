"""When the stranded-event sweep may retry an event next (``retry_at``): a nullable column
without a default, so no table copy on SQLite and no rewrite on PostgreSQL; going back drops it."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0003_payment_review'),
    ]

    operations = [
        migrations.AddField(
            model_name='paymenteventrecord',
            name='retry_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='next retry'),
        ),
    ]
