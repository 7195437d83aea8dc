"""Notification.expires_at: a copy of its message's expiry, so that the badge count and the
unread list read "is it expired?" from the notification row (and the unread index) alone.

Only the column here, in a migration of its own: on PostgreSQL, ADD COLUMN locks the table
against reads too until the migration commits, and a nullable column without a default is added
at once. 0010 fills it and builds the index, while reads go on.
"""

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0008_unread_covering_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="expires_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
