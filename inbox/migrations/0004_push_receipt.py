"""Receipts of sent pushes, so a delivery run again after its worker died skips what went out."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inbox', '0003_clamp_far_expiries'),
    ]

    operations = [
        migrations.CreateModel(
            name='PushReceipt',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('subscription_id', models.BigIntegerField()),
                ('sent_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('message', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='inbox.message')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('message', 'subscription_id'), name='inbox_one_receipt_per_push')],
            },
        ),
    ]
