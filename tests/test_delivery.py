from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.utils.module_loading import import_string

from inbox import delivery
from inbox.api import notify
from inbox.push.tasks import deliver_push

CORE = ["api.py", "delivery.py", "recipients.py", "validators.py", "badge.py", "signals.py", "conf.py"]


@pytest.fixture
def channel():
    """A delivery channel that records what it was handed."""
    received = []
    delivery.register("test", received.append)
    yield received
    delivery.unregister("test")


def test_notify_hands_the_committed_message_to_every_channel(
    alice, channel, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sent = notify(alice, "Hello")
        assert channel == []  # nothing before the commit
    assert channel == [sent.message.pk]
    assert set(delivery.channels()) >= {"push", "test"}  # push registered itself from its ready()


def test_a_failing_channel_never_stops_the_others(alice, channel, django_capture_on_commit_callbacks, caplog):
    def broken(message_id):
        raise RuntimeError("down")

    delivery.register("broken", broken)
    delivery.register("after", channel.append)  # registered after the broken one
    try:
        with django_capture_on_commit_callbacks(execute=True):
            sent = notify(alice, "Hello")
    finally:
        delivery.unregister("broken")
        delivery.unregister("after")
    assert channel == [sent.message.pk, sent.message.pk]  # "test" and "after" both got it
    assert "The broken channel could not take message" in caplog.text


def test_nothing_reaches_a_channel_when_the_send_fails(channel, django_capture_on_commit_callbacks):
    from django.contrib.auth.models import User

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Exception):  # noqa: B017
        notify(User.objects.none(), "Nobody")
    assert channel == []


def test_the_core_imports_no_channel():
    """The core hands messages to whatever registered; it never imports a channel itself."""
    root = Path(__file__).resolve().parent.parent / "inbox"
    for name in CORE:
        tree = ast.parse((root / name).read_text())
        imported = {
            (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
            for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom))
            for alias in node.names
        }
        for module in imported:
            assert not module.lstrip(".").startswith(("push", "web", "pwa")), (name, module)
            assert not module.startswith(("inbox.push", "inbox.web", "inbox.pwa")), (name, module)


def test_a_task_queued_under_the_old_path_still_finds_deliver_push():
    """Tasks queued before the push package name "inbox.tasks.deliver_push"."""
    assert import_string("inbox.tasks.deliver_push") is deliver_push
