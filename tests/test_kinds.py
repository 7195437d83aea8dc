from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from inbox import kinds
from inbox.api import notify
from inbox.models import Message, Notification


@pytest.fixture
def temporary_kind():
    """Register kinds for one test, then remove them."""
    added = []

    def register(key, label="Test kind", **options):
        added.append(key)
        return kinds.register(key, label, **options)

    yield register
    for key in added:
        kinds.unregister(key)


def test_the_app_registers_general_and_the_demo_site_its_own_in_order():
    keys = [kind.key for kind in kinds.all()]
    assert keys[0] == "general"
    assert keys[1:] == ["mention", "build.finished", "announcement", "security"]
    assert kinds.get("general").label == "General"
    security = kinds.get("security")
    assert security.must_deliver and not security.optional


@pytest.mark.parametrize("key", ["nope", "", "GENERAL", "a\x00b", "x" * 10_000, None, 7, ["general"]])
def test_an_unknown_kind_is_a_validation_error_that_names_it(key):
    with pytest.raises(ValidationError) as error:
        kinds.get(key)
    message = error.value.messages[0]
    assert message.startswith("Unknown kind: ") and len(message) < 120 and "\x00" not in message


@pytest.mark.parametrize(
    ("key", "options", "complaint"),
    [
        ("Build", {}, "a-z"),
        ("-build", {}, "a-z"),
        ("x" * 65, {}, "1-64"),
        ("a\x00", {}, "a-z"),
        ("ok", {"channels": ("inbox", "fax")}, "unknown channels"),
        ("ok", {"channels": ("push", "email")}, "must include 'inbox'"),
    ],
)
def test_register_refuses_malformed_kinds(key, options, complaint):
    with pytest.raises(ValueError, match=complaint):
        kinds.register(key, "Label", **options)
    assert key not in [kind.key for kind in kinds.all()]


def test_a_kind_s_defaults_and_locked_cells(temporary_kind):
    plain = temporary_kind("t.plain", channels=("inbox", "email"))
    assert plain.default("email") and not plain.default("push")
    assert not any(plain.locked(channel) for channel in kinds.CHANNELS)
    fixed = temporary_kind("t.fixed", "Fixed", optional=False)
    assert fixed.locked("inbox") == "Fixed always appear in your inbox." and not fixed.locked("push")
    alerts = temporary_kind("t.alerts", "Alerts", channels=("inbox", "email"), must_deliver=True)
    assert not alerts.optional
    assert alerts.locked("email") == "Alerts always reach you this way."
    assert alerts.locked("push") == "Alerts are never sent this way."


def test_choices_leave_out_must_deliver_kinds_for_non_staff():
    assert ("security", "Security alerts") in kinds.choices()
    assert "security" not in dict(kinds.choices(staff=False))
    assert "mention" in dict(kinds.choices(staff=False))


def test_notify_stores_the_kind_general_by_default(alice):
    assert notify(alice, "Plain").message.kind == "general"
    assert notify(alice, "You were mentioned", kind="mention").message.kind == "mention"


def test_notify_with_an_unknown_kind_writes_nothing(alice):
    with pytest.raises(ValidationError, match="Unknown kind: nope."):
        notify(alice, "Hi", kind="nope")
    assert not Message.objects.exists() and not Notification.objects.exists()


def test_the_command_takes_a_kind(alice, capsys):
    call_command("send_notification", "Build #7 passed", "--user", "alice", "--kind", "build.finished")
    assert Message.objects.get().kind == "build.finished"


def test_the_command_refuses_an_unknown_kind_and_lists_the_known_ones(alice):
    with pytest.raises(CommandError) as error:
        call_command("send_notification", "Hi", "--user", "alice", "--kind", "nope")
    assert str(error.value).startswith("Unknown kind: nope. Known kinds: general, mention, build.finished")
    assert not Message.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_existing_messages_the_general_kind():
    executor = MigrationExecutor(connection)
    executor.migrate([("inbox", "0004_push_receipt")])
    try:
        old = executor.loader.project_state([("inbox", "0004_push_receipt")]).apps
        old.get_model("inbox", "Message").objects.create(text="From before kinds")
        executor = MigrationExecutor(connection)
        executor.migrate([("inbox", "0005_kinds_preferences")])
        new = executor.loader.project_state([("inbox", "0005_kinds_preferences")]).apps
        assert list(new.get_model("inbox", "Message").objects.values_list("text", "kind")) == [
            ("From before kinds", "general")
        ]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


# -- each installed channel registers its column; a site's own channel gets one too (issue 20)


@pytest.fixture
def sms_channel():
    kinds.register_channel("sms", "Text message")
    yield
    kinds.unregister_channel("sms")


def test_the_installed_channels_registered_their_columns_in_order():
    assert list(kinds.CHANNELS.items()) == [
        ("inbox", "In the inbox"),
        ("push", "Push"),
        ("email", "Email"),
        ("digest", "Email digest"),
    ]


def test_a_site_s_own_channel_gets_a_column_its_kinds_may_name(sms_channel, temporary_kind, alice):
    """Before: the columns were a constant; a new channel could not get one, nor a kind name it."""
    from inbox.preferences import grid, set_choice

    pager = temporary_kind("t.pager", "Pages", channels=("inbox", "sms"))
    row = dict(grid(alice))[pager]
    assert [(cell.channel, cell.label, cell.enabled) for cell in row][-1] == ("sms", "Text message", True)
    assert set_choice(alice, "t.pager", "sms", False)
    assert not dict(grid(alice))[pager][-1].enabled


@pytest.fixture
def without_push():
    """The columns as a site without inbox.push has them; then as they were, in their order."""
    saved = dict(kinds.CHANNELS)
    kinds.unregister_channel("push")
    yield
    for key in saved:
        kinds.unregister_channel(key)
    for key, label in saved.items():
        kinds.register_channel(key, label)
    assert list(kinds.CHANNELS.items()) == list(saved.items())  # the order too


def test_a_kind_may_name_a_built_in_channel_that_is_not_installed(without_push, temporary_kind, alice):
    from inbox.preferences import grid

    kind = temporary_kind("t.pushy", channels=("inbox", "push"))
    assert kind.default("push") and "push" not in kinds.CHANNELS
    assert [cell.channel for cell in dict(grid(alice))[kind]] == ["inbox", "email", "digest"]


@pytest.mark.parametrize(
    ("key", "label"), [("Fax", "Fax"), ("x" * 17, "Long"), ("fax", ""), ("fax", "x" * 101)]
)
def test_register_channel_refuses_malformed_columns(key, label):
    with pytest.raises(ValueError):
        kinds.register_channel(key, label)
    assert key not in kinds.CHANNELS
