"""The push channel's models and what it needs of django-webpush's tables.

Until the push channel was an app, the core's migrations did this (inbox 0002: one row per
endpoint; 0004: PushReceipt; 0012: PushSession; 0013: binding the subscriptions saved before it).
The core now migrates without django-webpush, so 0002, 0012 and 0013 do nothing and their work is
here, done where a database lacks it: one made by those migrations as they were has the indexes,
the table and its rows, and keeps them; a new one gets them here. PushReceipt's table is still
made by inbox 0004 and taken over in the migration state only. The content types follow the
models, and with those the permissions and admin log entries that name them."""

from __future__ import annotations

from importlib import import_module

import django.db.models.deletion
import django.utils.timezone
from django.apps import apps as global_apps
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

APP_LABEL = "inbox_push"
MODELS = ["pushsession", "pushreceipt"]
# Unique indexes on django-webpush's tables, which have none: two concurrent saves of one endpoint
# made two rows (double pushes), and a subscription could belong to several users.
UNIQUE_INDEXES = {
    "inbox_push_one_row_per_endpoint": ("webpush_subscriptioninfo", "endpoint"),
    "inbox_push_one_owner_per_subscription": ("webpush_pushinformation", "subscription_id"),
}
SESSION_KEY = "inbox_push_subscriptions"
DATABASE_ENGINES = {"django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db"}
CHUNK = 2000


def merge_duplicates(apps, schema_editor):
    """Before the unique indexes: the newest row of each endpoint, and of each subscription's owners."""
    SubscriptionInfo = apps.get_model("webpush", "SubscriptionInfo")
    PushInformation = apps.get_model("webpush", "PushInformation")
    db = schema_editor.connection.alias
    seen = set()
    for row in SubscriptionInfo.objects.using(db).order_by("-id").values("id", "endpoint").iterator():
        if row["endpoint"] in seen:
            SubscriptionInfo.objects.using(db).filter(pk=row["id"]).delete()
        else:
            seen.add(row["endpoint"])
    owners = set()
    for row in PushInformation.objects.using(db).order_by("-id").values("id", "subscription_id").iterator():
        if row["subscription_id"] in owners:
            PushInformation.objects.using(db).filter(pk=row["id"]).delete()
        else:
            owners.add(row["subscription_id"])


def existing_indexes(schema_editor, table) -> set:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, table))


def add_unique_indexes(apps, schema_editor):
    """The indexes a database migrated by inbox 0002 as it was has already, made where missing."""
    missing = {
        name: where
        for name, where in UNIQUE_INDEXES.items()
        if name not in existing_indexes(schema_editor, where[0])
    }
    if missing:
        merge_duplicates(apps, schema_editor)
        # The deletes' deferred foreign key checks, run now: PostgreSQL makes no index on a table
        # with checks pending.
        schema_editor.connection.check_constraints(table_names=[table for table, _ in missing.values()])
    for name, (table, column) in missing.items():
        schema_editor.execute(f"CREATE UNIQUE INDEX {name} ON {table} ({column})")  # as inbox 0002's


def drop_unique_indexes(apps, schema_editor):
    for name, (table, _column) in UNIQUE_INDEXES.items():
        if name in existing_indexes(schema_editor, table):
            schema_editor.execute(f"DROP INDEX {name}")


def create_session_table(apps, schema_editor):
    """PushSession's table, unless inbox 0012 as it was made it. A new table, or an empty one
    (a database that ran inbox 0012 as it was but not 0013), then gets the subscriptions that live
    database sessions recorded before it existed (inbox 0013 as it was)."""
    PushSession = apps.get_model(APP_LABEL, "PushSession")
    if PushSession._meta.db_table not in schema_editor.connection.introspection.table_names():
        schema_editor.create_model(PushSession)
    elif PushSession.objects.using(schema_editor.connection.alias).exists():
        return  # bound already (by inbox 0013 as it was, then by the pages)
    bind_existing(apps, schema_editor, PushSession)


def drop_session_table(apps, schema_editor):
    PushSession = apps.get_model(APP_LABEL, "PushSession")
    if PushSession._meta.db_table in schema_editor.connection.introspection.table_names():
        schema_editor.delete_model(PushSession)


def bind_existing(apps, schema_editor, PushSession):
    """Binds the push subscriptions saved before PushSession to the login sessions that saved
    them, so an upgrade does not end every user's push: until then a session kept the ids of its
    subscriptions in its own data ("inbox_push_subscriptions"). Read for the database session
    engines only (the others keep no sessions that a migration can list); what is left unbound is
    bound when its user's page confirms it (push/check/) or removed by the worker's sweep."""
    if settings.SESSION_ENGINE not in DATABASE_ENGINES:
        return
    try:
        Session = apps.get_model("sessions", "Session")
    except LookupError:
        return
    PushInformation = apps.get_model("webpush", "PushInformation")
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    alias = schema_editor.connection.alias
    live = Session.objects.using(alias).filter(expire_date__gt=timezone.now()).order_by("pk")
    wanted = {}  # subscription id -> (session key, auth hash, user id)
    for session in live.iterator(chunk_size=CHUNK):
        data = store.decode(session.session_data)
        ids, user_id, auth_hash = (
            data.get(SESSION_KEY),
            data.get("_auth_user_id"),
            data.get("_auth_user_hash"),
        )
        if not (isinstance(ids, list) and user_id and isinstance(auth_hash, str)):
            continue
        for subscription_id in ids:
            if isinstance(subscription_id, int) and not isinstance(subscription_id, bool):
                wanted[subscription_id] = (session.session_key, auth_hash, str(user_id))
        if len(wanted) >= CHUNK:
            _bind(PushSession, PushInformation, alias, wanted)
            wanted = {}
    _bind(PushSession, PushInformation, alias, wanted)


def _bind(PushSession, PushInformation, alias, wanted):
    """Binds those of `wanted` that exist and belong to the session's user."""
    owners = PushInformation.objects.using(alias).filter(subscription_id__in=wanted, user__isnull=False)
    rows = [
        PushSession(subscription_id=subscription_id, session_key=key, auth_hash=auth_hash, user_id=user_id)
        for subscription_id, user_id in owners.values_list("subscription_id", "user_id")
        for key, auth_hash, session_user in [wanted[subscription_id]]
        if str(user_id) == session_user
    ]
    PushSession.objects.using(alias).bulk_create(rows, ignore_conflicts=True)


def move_content_types(apps, schema_editor, source="inbox", target=APP_LABEL):
    """Relabel the models' content types (a database migrated before the move has them under
    "inbox"), unless the target already has one of that model."""
    content_types = apps.get_model("contenttypes", "ContentType").objects.using(
        schema_editor.connection.alias
    )
    taken = set(content_types.filter(app_label=target, model__in=MODELS).values_list("model", flat=True))
    content_types.filter(app_label=source, model__in=set(MODELS) - taken).update(app_label=target)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, source=APP_LABEL, target="inbox")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("inbox", "0020_channel_models_move_to_their_apps"),
        ("webpush", "0006_alter_subscriptioninfo_user_agent"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        # For bind_existing(), which reads the sessions. A site that adds django.contrib.sessions
        # after this ran meets InconsistentMigrationHistory (as with inbox 0013 before).
        *([("sessions", "0001_initial")] if global_apps.is_installed("django.contrib.sessions") else []),
    ]

    operations = [
        migrations.RunPython(add_unique_indexes, drop_unique_indexes, elidable=False),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PushSession",
                    fields=[
                        (
                            "subscription",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                primary_key=True,
                                related_name="inbox_session",
                                serialize=False,
                                to="webpush.subscriptioninfo",
                            ),
                        ),
                        ("session_key", models.CharField(db_index=True, max_length=40)),
                        ("auth_hash", models.CharField(max_length=128)),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "inbox_pushsession",
                    },
                ),
                migrations.CreateModel(
                    name="PushReceipt",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("subscription_id", models.BigIntegerField()),
                        ("sent_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "message",
                            models.ForeignKey(
                                db_index=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="inbox.message",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "inbox_pushreceipt",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("message", "subscription_id"), name="inbox_one_receipt_per_push"
                            )
                        ],
                    },
                ),
            ],
            # PushReceipt's table is inbox 0004's; PushSession's is made below where missing.
            database_operations=[],
        ),
        migrations.RunPython(create_session_table, drop_session_table, elidable=False),
        migrations.RunPython(move_content_types, move_content_types_back, elidable=False),
    ]
