"""Moving the channels' models to their own apps (inbox 0020 and each channel's 0001) keeps every
row: a database made by the migrations before the move, with a row in every table Inbox owns,
finds them all afterwards, through the models where they now live, and changes no table."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inbox.mail.models import DigestReceipt, EmailBounce, EmailReceipt
from inbox.models import Message, Notification
from inbox.outbox.models import Handover
from inbox.preferences import DigestSetting, Preference
from inbox.push.models import PushReceipt, PushSession
from inbox.realtime.models import RealtimeEvent

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
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        alice = User.objects.create_user("alice", password="pw")
        ids = fill_every_table(old, alice)
        # contenttypes is not part of the state at BEFORE: its current model, by queries (no cache).
        before = {
            (label, name): ContentType.objects.get_or_create(app_label="inbox", model=name)[0].pk
            for label, names in MOVED.items()
            for name in names
        }

        executor = MigrationExecutor(connection)
        with CaptureQueriesContext(connection) as queries:
            executor.migrate(executor.loader.graph.leaf_nodes())

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
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


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
