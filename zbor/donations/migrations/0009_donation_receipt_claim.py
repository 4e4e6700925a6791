"""A receipt is claimed before it is sent (``receipt_claimed_until``), so the queued task and
the sweep that sends receipts the queue never took cannot both send it; the sweep reads the
receipts still due through a partial index of only those rows. Both are new (a nullable column
without a default: no table copy on SQLite); going back drops them."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0003_campaign_newest_index'),
        ('donations', '0008_words_of_support_for_editors'),
    ]

    operations = [
        migrations.AddField(
            model_name='donation',
            name='receipt_claimed_until',
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="receipt being sent until"),
        ),
        migrations.AddIndex(
            model_name='donation',
            index=models.Index(condition=models.Q(('receipt_sent_at__isnull', True), ('status', 'succeeded'), models.Q(('email', ''), _negated=True)), fields=['succeeded_at'], name='donation_receipt_due'),
        ),
    ]
