"""The migrations as they shipped at commit 756335a, when the core's migrations still did the push
channel's work on django-webpush's tables (inbox 0002, 0012, 0013) and moved PushSession in 0020.
Those files, and inbox_push's 0001, are kept here as they were; each package's path then has the
app's own migrations folder, so every other migration is the app's current file (as
inbox/push/webpush_migrations does for django-webpush). The upgrade tests make a database with
these and migrate it with the current files."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import override_settings

HERE = Path(__file__).resolve().parent
SHIPPED = {
    **settings.MIGRATION_MODULES,
    "inbox": "tests.migrations_756335a.inbox",
    "inbox_push": "tests.migrations_756335a.inbox_push",
}
# Every table of Inbox's apps and of django-webpush: back to before their first migration.
ZERO = [("inbox", None), ("webpush", None)]


def migrate(targets, *, shipped: bool = False) -> MigrationExecutor:
    """Migrates the test database to `targets` with the migrations as they shipped at 756335a, or
    as they are now; the executor's loader gives the models at any node
    (`executor.loader.project_state(node).apps`)."""
    with override_settings(MIGRATION_MODULES=SHIPPED if shipped else settings.MIGRATION_MODULES):
        executor = MigrationExecutor(connection)
        if targets == "leaves":
            targets = executor.loader.graph.leaf_nodes()
        executor.migrate(targets)
        return executor


def pending() -> list:
    """The current migrations the test database has not applied; first, as `migrate` does, that
    none it has applied depends on one it has not (InconsistentMigrationHistory)."""
    executor = MigrationExecutor(connection)
    executor.loader.check_consistent_history(connection)
    return executor.migration_plan(executor.loader.graph.leaf_nodes())
