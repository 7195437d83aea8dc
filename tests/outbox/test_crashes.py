"""Issue 19, faults injected in real processes: a process SIGKILLed right after notify()'s COMMIT
(before it could enqueue anything), and workers SIGKILLed mid-push and mid-email-batch, again and
again. Real `manage.py inbox_worker` processes then deliver every push (to the local push service)
and every email (to a real SMTP server): nothing is lost, and each kill repeats at most the wave
in flight (receipts skip the rest; the notification's tag makes a repeated push replace itself)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult
from webpush.models import PushInformation, SubscriptionInfo

from inbox.api import notify
from inbox.outbox import Handover
from tests.mail.conftest import Handler, serving
from tests.push.conftest import bind_to_sessions
from tests.push.receiver import PushReceiver

ROOT = Path(__file__).resolve().parents[2]  # the repository
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
PUSH_WAVE = MAIL_WAVE = 10

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the processes cannot see the in-memory SQLite test database; these tests run in "
        "the PostgreSQL pass (CI runs it)",
    ),
    pytest.mark.django_db(transaction=True),
]

# The settings every child process starts with: the test database, the database task queue, the
# test's push service and SMTP server, small batches and waves and a short lease.
SETUP = """
import os, sys, json
import tests.settings as s
s.DATABASES["default"]["NAME"] = os.environ["INBOX_TEST_DB_NAME"]
s.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
s.MAILERS = json.loads(os.environ["INBOX_TEST_MAILERS"])
s.DEFAULT_FROM_EMAIL, s.INBOX_SITE_URL = "Inbox <inbox@example.com>", "https://inbox.example.com"
s.INBOX_PUSH_ALLOW_LOOPBACK = True
s.INBOX_PUSH_BATCH_SIZE, s.INBOX_PUSH_WAVE_SIZE, s.INBOX_PUSH_CONCURRENCY = 40, 10, 5
s.INBOX_MAIL_BATCH_SIZE, s.INBOX_MAIL_WAVE_SIZE = 40, 10
s.INBOX_TASK_LEASE_SECONDS, s.INBOX_RELAY_INTERVAL = 3, 0.2
"""

WORKER = (
    SETUP
    + """
from django.core.management import execute_from_command_line
execute_from_command_line(["manage.py", "inbox_worker", "--no-startup-delay", "--interval", "0.1",
                           "--skip-checks", "--no-reload"])
"""
)

# notify() in a process of its own, killed once its transaction has committed: the kick that
# would enqueue the hand-overs (an on_commit callback) says so and waits to be killed.
NOTIFY_THEN_DIE = (
    SETUP
    + """
import pathlib, time
import django
django.setup()
from django.contrib.auth import get_user_model
from inbox import outbox
from inbox.api import notify

def committed_then_killed(pks):
    pathlib.Path(sys.argv[1]).write_text(",".join(map(str, pks)))
    time.sleep(600)

outbox.relay = committed_then_killed
notify(get_user_model().objects.all(), "Committed, then the process died", kind="mention")
"""
)


class SlowHandler(Handler):
    """An SMTP server that takes 20 ms per email, so that a worker can be killed mid-batch."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.02)
        return await super().handle_DATA(server, session, envelope)


def child(script: str, log, settings, *args) -> subprocess.Popen:
    import json

    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "INBOX_TEST_DB_NAME": connection.settings_dict["NAME"],
        "INBOX_TEST_MAILERS": json.dumps(settings.MAILERS),
    }
    return subprocess.Popen(
        [sys.executable, "-c", script, *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )


def wait_for(condition, seconds: float, what: str, log_path: Path) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out waiting for {what}; the processes said:\n{log_path.read_text()}")
        time.sleep(0.005)


def kill(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()


def people(django_user_model, receiver, n: int):
    """n users, each with an email address and a browser subscribed (bound to a live session)."""
    users = django_user_model.objects.bulk_create(
        django_user_model(username=f"u{i}", email=f"u{i}@example.com") for i in range(n)
    )
    infos = []
    for user in users:
        data = receiver.subscription(user.username)
        infos.append(
            SubscriptionInfo(
                browser="test",
                endpoint=data["endpoint"],
                p256dh=data["keys"]["p256dh"],
                auth=data["keys"]["auth"],
            )
        )
    infos = SubscriptionInfo.objects.bulk_create(infos)
    PushInformation.objects.bulk_create(
        PushInformation(user=user, subscription=info) for user, info in zip(users, infos, strict=True)
    )
    bind_to_sessions(list(zip(users, infos, strict=True)))  # the workers sweep unbound ones
    return users


def finish(worker, receiver, smtp, n, log_path) -> tuple[Counter, Counter]:
    """Wait for a worker to deliver everything and leave the outbox empty; stop it."""
    try:
        wait_for(
            lambda: (
                len(set(map(path_of, receiver.received))) == n
                and len({m.rcpt_tos[0] for m in smtp.received}) == n
                and not Handover.objects.exists()
            ),
            90,
            "every push and email",
            log_path,
        )
    finally:
        worker.terminate()
        worker.wait(10)
    return Counter(map(path_of, receiver.received)), Counter(m.rcpt_tos[0] for m in smtp.received)


def delivered(channel, receiver, smtp) -> set[str]:
    if channel == "push":
        return set(map(path_of, receiver.received))
    return {m.rcpt_tos[0] for m in smtp.received}


def path_of(push) -> str:
    return push["path"]


def test_a_process_killed_right_after_commit_loses_nothing(settings, tmp_path, django_user_model):
    settings.TASKS = DB_TASKS
    settings.INBOX_PUSH_ALLOW_LOOPBACK = True
    n = 30
    log_path, ready = tmp_path / "processes.log", tmp_path / "committed"
    with PushReceiver() as receiver, serving(settings, Handler()) as smtp, log_path.open("w") as log:
        people(django_user_model, receiver, n)
        sender = child(NOTIFY_THEN_DIE, log, settings, str(ready))
        try:
            wait_for(ready.exists, 60, "notify() to commit", log_path)
        finally:
            kill(sender)  # SIGKILL after COMMIT, before any enqueue

        assert sorted(Handover.objects.values_list("channel", "state")) == [
            ("email", "pending"),
            ("push", "pending"),
        ]
        assert not DBTaskResult.objects.filter(task_path__contains="deliver_").exists()  # nothing enqueued

        pushes, emails = finish(child(WORKER, log, settings), receiver, smtp, n, log_path)
        assert set(pushes.values()) == {1} and set(emails.values()) == {1}  # each once
        assert all(p["payload"]["body"] == "Committed, then the process died" for p in receiver.received)
        assert not receiver.rejected


def test_workers_killed_mid_push_and_mid_email_batch_again_and_again_lose_nothing(
    settings, tmp_path, django_user_model
):
    settings.TASKS = DB_TASKS
    settings.INBOX_PUSH_ALLOW_LOOPBACK = True
    n, rounds = 120, 8
    log_path = tmp_path / "workers.log"
    kills = Counter()
    with (
        PushReceiver(delay=0.05) as receiver,
        serving(settings, SlowHandler()) as smtp,
        log_path.open("w") as log,
    ):
        people(django_user_model, receiver, n)
        notify(django_user_model.objects.all(), "To everyone, once", kind="mention")  # enqueued on commit

        for _ in range(rounds):
            # Kill while the channel killed least often so far has deliveries arriving.
            left = [c for c in ("push", "email") if len(delivered(c, receiver, smtp)) < n]
            if not left:
                break
            channel = min(left, key=lambda c: kills[c])
            got = receiver.received if channel == "push" else smtp.received
            before = len(got)
            worker = child(WORKER, log, settings)
            try:  # a few arrivals: mid-wave, mid-batch
                wait_for(lambda: len(got) >= before + 5, 60, f"{channel} deliveries", log_path)  # noqa: B023
            finally:
                kill(worker)
            kills[channel] += 1

        assert kills["push"] >= 3 and kills["email"] >= 3, kills
        pushes, emails = finish(child(WORKER, log, settings), receiver, smtp, n, log_path)

    assert set(pushes) == {f"/push/u{i}" for i in range(n)}  # 0 lost
    assert set(emails) == {f"u{i}@example.com" for i in range(n)}
    push_repeats, email_repeats = sum(pushes.values()) - n, sum(emails.values()) - n
    assert push_repeats <= kills["push"] * PUSH_WAVE, pushes.most_common(5)  # at most a wave per kill
    assert email_repeats <= kills["email"] * MAIL_WAVE, emails.most_common(5)
    assert not receiver.rejected
    assert not Handover.objects.exists()
    print(f"kills {dict(kills)}; repeated: {push_repeats} pushes, {email_repeats} emails")
