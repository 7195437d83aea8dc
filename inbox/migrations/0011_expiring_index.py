"""A partial index of the notifications that expire, by their copy of the expiry:
purge_notifications finds the expired ones through it instead of reading the whole table.
Rows without an expiry (most of them) are not in it and cost nothing more to write."""

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0010_unread_visible_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("expires_at__isnull", False)), fields=["expires_at"], name="inbox_expiring"
            ),
        ),
    ]
