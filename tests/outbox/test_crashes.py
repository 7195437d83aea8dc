"""Issue 19, faults injected in real processes: a process SIGKILLed right after notify()'s COMMIT
(before it could enqueue anything), and workers SIGKILLed mid-push and mid-email-batch, again and
again. Real `manage.py inbox_worker` processes then deliver every push (to the local push service)
and every email (to a real SMTP server): nothing is lost, and each kill repeats at most the wave
in flight (receipts skip the rest; the notification's tag makes a repeated push replace itself);
for push, a wave of answers whose receipts are not yet written and the pushes in flight."""

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
PUSH_IN_FLIGHT = 5  # INBOX_PUSH_CONCURRENCY in SETUP

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


def finish(worker, done, log_path) -> None:
    """Let a worker run until `done()` and the outbox is empty; stop it."""
    try:
        wait_for(lambda: done() and not Handover.objects.exists(), 90, "every delivery", log_path)
    finally:
        worker.terminate()
        worker.wait(10)


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

        finish(
            child(WORKER, log, settings),
            lambda: (
                len({p["path"] for p in receiver.received}) == n
                and len({m.rcpt_tos[0] for m in smtp.received}) == n
            ),
            log_path,
        )
        pushes = Counter(p["path"] for p in receiver.received)
        emails = Counter(m.rcpt_tos[0] for m in smtp.received)
        assert len(pushes) == len(emails) == n  # 0 lost
        assert set(pushes.values()) == {1} and set(emails.values()) == {1}  # each once
        assert all(p["payload"]["body"] == "Committed, then the process died" for p in receiver.received)
        assert not receiver.rejected


def test_workers_killed_mid_push_and_mid_email_batch_again_and_again_lose_nothing(
    settings, tmp_path, django_user_model
):
    """Two notifications, one at a time, so that each kill lands in the channel meant: the first
    goes by push alone ("general" is not emailed by default), the second by email (and push)."""
    settings.TASKS = DB_TASKS
    settings.INBOX_PUSH_ALLOW_LOOPBACK = True
    n, times = 120, 4
    log_path = tmp_path / "workers.log"
    with (
        PushReceiver(delay=0.05) as receiver,
        serving(settings, SlowHandler()) as smtp,
        log_path.open("w") as log,
    ):
        people(django_user_model, receiver, n)

        def kill_mid(arrivals: list, times: int) -> int:
            """Start a worker and SIGKILL it once a few more deliveries arrived: `times` times,
            or until everything arrived. Returns how many workers were killed mid-delivery."""
            kills = 0
            for _ in range(times):
                if len(arrivals) >= n:
                    break
                before = len(arrivals)
                worker = child(WORKER, log, settings)
                try:  # a few arrivals: mid-wave, mid-batch
                    wait_for(lambda: len(arrivals) >= min(before + 5, n), 60, "deliveries", log_path)  # noqa: B023
                finally:
                    kill(worker)
                kills += 1 if len(arrivals) < n else 0
            return kills

        def pushes_of(text: str) -> Counter:
            return Counter(p["path"] for p in receiver.received if p["payload"]["body"] == text)

        # Push: the kills land while pushes arrive.
        notify(django_user_model.objects.all(), "By push", kind="general")  # enqueued on commit
        push_kills = kill_mid(receiver.received, times)
        finish(child(WORKER, log, settings), lambda: len(pushes_of("By push")) == n, log_path)

        # Email: the kills land while emails arrive (the pushes of this message go too).
        notify(django_user_model.objects.all(), "By email", kind="mention")
        email_kills = kill_mid(smtp.received, times)
        emails = lambda: Counter(m.rcpt_tos[0] for m in smtp.received)  # noqa: E731
        finish(
            child(WORKER, log, settings),
            lambda: len(emails()) == n and len(pushes_of("By email")) == n,
            log_path,
        )

    assert push_kills >= 3 and email_kills >= 3, (push_kills, email_kills)
    first, second, mailed = pushes_of("By push"), pushes_of("By email"), emails()
    assert set(first) == set(second) == {f"/push/u{i}" for i in range(n)}  # 0 lost
    assert set(mailed) == {f"u{i}@example.com" for i in range(n)}
    repeats = [sum(c.values()) - n for c in (first, mailed, second)]
    # At most a wave per kill, and for push the pushes in flight (it streams: inbox.push.tasks).
    assert repeats[0] <= push_kills * (PUSH_WAVE + PUSH_IN_FLIGHT), first.most_common(5)
    assert repeats[1] <= email_kills * MAIL_WAVE, mailed.most_common(5)
    assert repeats[2] <= email_kills * (PUSH_WAVE + PUSH_IN_FLIGHT), second.most_common(5)
    assert not receiver.rejected
    print(
        f"killed {push_kills} workers mid-push, {email_kills} mid-email; repeated: {repeats[0]} "
        f"pushes, {repeats[1]} emails (and {repeats[2]} pushes of the second message)"
    )
