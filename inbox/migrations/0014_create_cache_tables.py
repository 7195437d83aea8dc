"""The database cache tables (CACHES) for a site upgraded from a version that needed
`createcachetable` by hand: without them every rate-limited page was a 500. A new database gets
them from the post_migrate handler (inbox.cachetable) too; this step is for the upgrade, where
the check that names a missing table (inbox.E005) would otherwise stop `migrate` itself."""

from __future__ import annotations

from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    # Creates only what is missing, where the database routers allow it.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0013_bind_existing_push_subscriptions"),
    ]

    operations = [
        migrations.RunPython(create_cache_tables, migrations.RunPython.noop, elidable=True),
    ]
