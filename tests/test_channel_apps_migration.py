"""Moving the channels' models to their own apps (inbox 0020 and each channel's 0001) keeps every
row: a database made by the migrations before the move (as they shipped, tests/migrations_756335a),
with a row in every table Inbox owns, finds them all afterwards, through the models where they now
live, and changes no table. So does one made by all of them as they shipped, and a new database
gets the same tables, columns, indexes and constraints as one made by the shipped migrations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox.mail.models import DigestReceipt, EmailBounce, EmailReceipt
from inbox.models import Message, Notification
from inbox.outbox.models import Handover
from inbox.preferences import DigestSetting, Preference
from inbox.push.models import PushReceipt, PushSession
from inbox.realtime.models import RealtimeEvent
from tests.migrations_756335a import ZERO, migrate, pending

BEFORE = [("inbox", "0019_preference_channel_from_the_channels")]
MOVED = {
    "inbox_push": ["pushreceipt", "pushsession"],
    "inbox_mail": ["emailreceipt", "emailbounce", "digestreceipt"],
    "inbox_realtime": ["realtimeevent"],
}
SCHEMA_CHANGES = ("CREATE ", "DROP ", "ALTER ", "RENAME ")


def fill_every_table(old, alice) -> dict:
    """One row in each of Inbox's tables, written through the models as they were at 0019."""
    model = old.get_model
    now = timezone.now()
    message = model("inbox", "Message").objects.create(text="Before the move", kind="general")
    notification = model("inbox", "Notification").objects.create(
        recipient_id=alice.pk, message=message, created=now
    )
    subscription = model("webpush", "SubscriptionInfo").objects.create(
        browser="chrome", endpoint="https://push.example/alice"
    )
    model("webpush", "PushInformation").objects.create(user_id=alice.pk, subscription=subscription)
    ids = {
        Message: message.pk,
        Notification: notification.pk,
        Preference: model("inbox", "Preference")
        .objects.create(user_id=alice.pk, kind="general", channel="push", enabled=False)
        .pk,
        DigestSetting: model("inbox", "DigestSetting")
        .objects.create(user_id=alice.pk, frequency="daily", next_due_at=now + timedelta(hours=1))
        .pk,
        Handover: model("inbox", "Handover")
        .objects.create(channel="push", message=message, task_path="inbox.push.tasks.deliver_push", args=[1])
        .pk,
        PushReceipt: model("inbox", "PushReceipt")
        .objects.create(message=message, subscription_id=subscription.pk)
        .pk,
        PushSession: model("inbox", "PushSession")
        .objects.create(subscription=subscription, user_id=alice.pk, session_key="k" * 32, auth_hash="h")
        .pk,
        EmailReceipt: model("inbox", "EmailReceipt").objects.create(message=message, user_id=alice.pk).pk,
        EmailBounce: model("inbox", "EmailBounce")
        .objects.create(user_id=alice.pk, address="alice@example.com", code=550, message="No such user")
        .pk,
        DigestReceipt: model("inbox", "DigestReceipt")
        .objects.create(user_id=alice.pk, due_at=now, cursor_created=now, cursor_id=notification.pk)
        .pk,
        RealtimeEvent: model("inbox", "RealtimeEvent").objects.create(payload={"type": "sent"}).pk,
    }
    return ids


@pytest.mark.django_db(transaction=True)
def test_the_move_to_one_app_per_channel_keeps_every_row_and_every_table():
    try:
        migrate(ZERO, shipped=True)
        executor = migrate(BEFORE, shipped=True)
        old = executor.loader.project_state(BEFORE).apps
        alice = User.objects.create_user("alice", password="pw")
        ids = fill_every_table(old, alice)
        # contenttypes is not part of the state at BEFORE: its current model, by queries (no cache).
        before = {
            (label, name): ContentType.objects.get_or_create(app_label="inbox", model=name)[0].pk
            for label, names in MOVED.items()
            for name in names
        }

        with CaptureQueriesContext(connection) as queries:
            migrate("leaves")

        # Every row, found through the model that now owns its table.
        for model, pk in ids.items():
            assert model.objects.filter(pk=pk).exists(), f"{model.__name__} {pk} was lost"
        assert PushSession.objects.get().session_key == "k" * 32
        assert EmailBounce.objects.get().address == "alice@example.com"
        assert RealtimeEvent.objects.get().payload == {"type": "sent"}
        # No table was made, dropped or altered: the move is in the migration state only.
        statements = [query["sql"].upper() for query in queries]
        assert not [sql for sql in statements if sql.lstrip().startswith(SCHEMA_CHANGES)]
        # The content types (and so the permissions that point at them) follow the models.
        moved = ContentType.objects
        after = {(row.app_label, row.model): row.pk for row in moved.filter(app_label__in=MOVED)}
        assert after == before
        assert not moved.filter(app_label="inbox", model__in=[name for _, name in before]).exists()
        assert not pending()
    finally:
        migrate("leaves")


def test_the_channels_models_keep_their_tables_in_their_own_apps():
    assert {
        model._meta.label: model._meta.db_table
        for model in (PushReceipt, PushSession, EmailReceipt, EmailBounce, DigestReceipt, RealtimeEvent)
    } == {
        "inbox_push.PushReceipt": "inbox_pushreceipt",
        "inbox_push.PushSession": "inbox_pushsession",
        "inbox_mail.EmailReceipt": "inbox_emailreceipt",
        "inbox_mail.EmailBounce": "inbox_emailbounce",
        "inbox_mail.DigestReceipt": "inbox_digestreceipt",
        "inbox_realtime.RealtimeEvent": "inbox_realtimeevent",
    }


@pytest.mark.django_db(transaction=True)
def test_a_database_made_by_every_shipped_migration_keeps_its_rows_and_needs_nothing_more():
    """A site that ran all the migrations as they shipped (the core's 0002, 0012 and 0013 made
    the push channel's indexes and table then) upgrades with nothing to run."""
    try:
        migrate(ZERO, shipped=True)
        executor = migrate("leaves", shipped=True)
        old = executor.loader.project_state(executor.loader.graph.leaf_nodes()).apps
        alice = User.objects.create_user("alice", password="pw")
        message = old.get_model("inbox", "Message").objects.create(text="Shipped", kind="general")
        subscription = old.get_model("webpush", "SubscriptionInfo").objects.create(
            browser="firefox", endpoint="https://push.example/shipped"
        )
        owner = old.get_model("webpush", "PushInformation")
        owner.objects.create(user_id=alice.pk, subscription=subscription)
        old.get_model("inbox_push", "PushSession").objects.create(
            subscription=subscription, user_id=alice.pk, session_key="s" * 32, auth_hash="h"
        )
        old.get_model("inbox_push", "PushReceipt").objects.create(
            message=message, subscription_id=subscription.pk
        )

        assert not pending()
        migrate("leaves")
        assert PushSession.objects.get().subscription.endpoint == "https://push.example/shipped"
        assert PushReceipt.objects.get().message_id == message.pk
    finally:
        migrate("leaves")


def schema() -> dict:
    """Inbox's and django-webpush's tables as the database describes them: columns, indexes and
    constraints (those without a name of their own by what they are)."""
    introspection = connection.introspection
    tables = {}
    with connection.cursor() as cursor:
        for table in introspection.table_names(cursor):
            if not table.startswith(("inbox_", "webpush_")):
                continue
            columns = [
                (column.name, column.type_code, column.null_ok)
                for column in introspection.get_table_description(cursor, table)
            ]
            constraints = introspection.get_constraints(cursor, table)
            named = {
                name if not name.startswith("__") else repr(sorted(c.items())): sorted(c.items())
                for name, c in constraints.items()
            }
            tables[table] = (sorted(columns), sorted(named.items()))
    return tables


@pytest.mark.django_db(transaction=True)
def test_a_new_database_gets_what_the_shipped_migrations_made():
    try:
        migrate(ZERO, shipped=True)
        migrate("leaves", shipped=True)
        shipped = schema()
        migrate(ZERO)
        migrate("leaves")
        assert "inbox_pushsession" in shipped
        assert schema() == shipped
    finally:
        migrate("leaves")
