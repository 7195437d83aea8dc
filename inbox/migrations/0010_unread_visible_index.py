"""Fill Notification.expires_at from the messages, then replace the unread index by one that
also holds it, so that the badge count reads nothing but the index.

The copy is filled by one UPDATE of the rows whose message has an expiry (the others stay
NULL, as they should). As in 0008, the new index is built before the old one is dropped: on
PostgreSQL, DROP INDEX locks the table until the migration commits, so it comes last and reads
go on while the new index builds.
"""

from __future__ import annotations

from django.db import migrations, models

BACKFILL = """
UPDATE inbox_notification
SET expires_at = (SELECT m.expires_at FROM inbox_message m WHERE m.id = inbox_notification.message_id)
WHERE message_id IN (SELECT id FROM inbox_message WHERE expires_at IS NOT NULL)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0009_notification_expires_at"),
    ]

    operations = [
        migrations.RunSQL(BACKFILL, reverse_sql=migrations.RunSQL.noop, elidable=False),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("read_at__isnull", True)),
                fields=["recipient", "-created", "-id", "message", "read_at", "expires_at"],
                name="inbox_unread_visible",
            ),
        ),
        migrations.RemoveIndex(
            model_name="notification",
            name="inbox_unread_covering",
        ),
    ]
