"""The channels' models leave the core app for their own (inbox.push, inbox.mail, inbox.realtime):
in the migration state only. The tables, their rows, indexes and constraints stay as they are;
each channel's 0001_initial takes its models over, with the same table names. (PushSession is not
among them: since 0012 does nothing, it is inbox_push's from its start.)"""

from django.db import migrations

MOVED = ["PushReceipt", "EmailReceipt", "EmailBounce", "DigestReceipt", "RealtimeEvent"]


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0019_preference_channel_from_the_channels"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name=name) for name in MOVED],
            database_operations=[],
        ),
    ]
