"""Several real RQ worker processes share the queue in the real Redis: notify() to many users
with push and email, three workers (two `manage.py rqworker`, one `manage.py inbox_worker`, which
runs an RQ worker in process beside its periodic work and the outbox's relay) and one of them
SIGKILLed mid-job. Every push reaches the local push service and every email the SMTP server: the
killed job's hand-over, left RUNNING, is put back by the relay's recovery once its lease (short
here) has passed and enqueued as a new job, which repeats at most the wave that was in flight.
RQ does not run the killed job again; its maintenance only marks it failed (abandoned)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import django_rq
import pytest
from django.db import connection
from rq.job import Job, JobStatus
from rq.worker import Worker

from inbox.api import notify
from inbox.outbox import Handover
from inbox.workers import RQ_JOB_CLASS
from tests.mail.conftest import Handler, serving
from tests.push.receiver import PushReceiver

from .conftest import subscribe_all

ROOT = Path(__file__).resolve().parents[2]  # the repository
USERS, BATCH, WAVE = 120, 20, 5
# The workers' INBOX_TASK_LEASE_SECONDS, well above a batch's run here (about 2 s) and far below the
# default 15 minutes: the killed delivery runs again 20 to 30 s after it started.
LEASE = 20

WORKER = """
import json, os, sys
import tests.settings as s
from tests.rq.conftest import rq_settings
s.DATABASES["default"]["NAME"] = os.environ["INBOX_WORKER_DB_NAME"]
vars(s).update(rq_settings())
s.RQ["WORKER_CLASS"] = "tests.rq.fast_worker.FastWorker"
s.INSTALLED_APPS = [*s.INSTALLED_APPS, "django_rq"]
s.INBOX_PUSH_ALLOW_LOOPBACK = True
s.INBOX_TASK_LEASE_SECONDS = int(os.environ["INBOX_WORKER_LEASE"])  # LEASE (above)
s.INBOX_PUSH_BATCH_SIZE, s.INBOX_PUSH_WAVE_SIZE, s.INBOX_PUSH_CONCURRENCY = 20, 5, 5
s.INBOX_MAIL_BATCH_SIZE, s.INBOX_MAIL_WAVE_SIZE = 20, 5
s.MAILERS = json.loads(os.environ["INBOX_WORKER_MAILERS"])
s.DEFAULT_FROM_EMAIL, s.INBOX_SITE_URL = "Inbox <inbox@example.com>", "https://inbox.example.com"
from django.core.management import execute_from_command_line
execute_from_command_line(["manage.py", *sys.argv[1:]])
"""


class SlowHandler(Handler):
    """An SMTP server that takes 20 ms per email, so a worker can be killed mid-batch."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.02)
        return await super().handle_DATA(server, session, envelope)


def start(log, *command) -> subprocess.Popen:
    import json

    from django.conf import settings

    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "INBOX_WORKER_DB_NAME": connection.settings_dict["NAME"],
        "INBOX_WORKER_MAILERS": json.dumps(settings.MAILERS),
        "INBOX_WORKER_LEASE": str(LEASE),
    }
    # A session of its own, so the test's SIGTERM at the end reaches the worker and nothing else.
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, *command],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def children(pid: int) -> list[int]:
    """The processes `pid` forked: RQ's work horse runs a job in a session of its own, so
    killing the worker's process group would leave it running (a crash of the machine would not)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def wait_for(condition, seconds: float, what: str, log_path):
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out waiting for {what}; the workers said:\n{log_path.read_text()[-6000:]}")
        time.sleep(0.01)
    return found


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the workers run in other processes, which cannot see the in-memory SQLite test "
    "database; this test runs in the PostgreSQL pass",
)
@pytest.mark.django_db(transaction=True)
def test_three_rq_workers_one_killed_mid_job_lose_nothing(rq_backend, settings, tmp_path, django_user_model):
    settings.INBOX_PUSH_ALLOW_LOOPBACK = True
    settings.INBOX_PUSH_BATCH_SIZE = settings.INBOX_MAIL_BATCH_SIZE = (
        BATCH  # as the workers' (the planners run there)
    )
    log_path = tmp_path / "workers.log"
    with (
        PushReceiver(delay=0.5) as receiver,
        serving(settings, SlowHandler()) as smtp,
        log_path.open("w") as log,
    ):
        users = django_user_model.objects.bulk_create(
            django_user_model(username=f"u{i}") for i in range(USERS)
        )
        subscribe_all(receiver, users)
        names = {"rq-a", "rq-b"}  # the two that may be killed
        workers = {
            name: start(log, "rqworker", "--with-scheduler", "--name", name, "default") for name in names
        }
        workers["inbox"] = start(log, "inbox_worker", "--worker-id", "inbox-worker", "--no-startup-delay")
        try:
            sent = notify(django_user_model.objects.all(), "To everyone, once", kind="mention")

            def busy_worker():  # an rqworker in the middle of a batch of pushes (2 s at 0.5 s a wave)
                for worker in Worker.all(queue=django_rq.get_queue("default")):
                    if worker.name in names and (job_id := worker.get_current_job_id()):
                        job = Job.fetch(job_id, connection=worker.connection)
                        if (
                            job.started_at is None
                            or len(job.args) != 3
                            or job.get_status() != JobStatus.STARTED
                        ):
                            continue
                        if 0.6 < time.time() - job.started_at.timestamp() < 1.2:
                            return worker.name, job_id
                return None

            victim, job_id = wait_for(busy_worker, 120, "a worker in the middle of a job", log_path)
            for pid in (workers[victim].pid, *children(workers[victim].pid)):  # the worker and its horse
                os.kill(pid, signal.SIGKILL)
            workers.pop(victim).wait()
            arrived_before = len(receiver.received), len(smtp.received)
            abandoned = Handover.objects.get(task_id=job_id)  # the outbox knows it was running
            assert (abandoned.state, abandoned.attempts) == (Handover.State.RUNNING, 1)

            def everyone_reached():
                pushed = {p["path"] for p in receiver.received}
                mailed = {r.rcpt_tos[0] for r in smtp.received}
                return len(pushed) == USERS and len(mailed) == USERS

            # The relay's recovery puts the row back LEASE to 1.5 x LEASE seconds after the run began.
            wait_for(everyone_reached, 240, "every push and every email", log_path)
            wait_for(lambda: not Handover.objects.exists(), 60, "every hand-over to be done", log_path)
            # RQ's maintenance (the tests' worker: every 2 s, a heartbeat 2 s + RQ's 60) marks the
            # killed job failed as abandoned; it does not run it again.
            queue = django_rq.get_queue("default", job_class=RQ_JOB_CLASS)
            wait_for(
                lambda: job_id in queue.failed_job_registry, 120, "RQ to mark the job abandoned", log_path
            )
            wait_for(lambda: not queue.count, 60, "the queue to drain", log_path)
        finally:
            for process in workers.values():
                os.killpg(process.pid, signal.SIGTERM)
            for process in workers.values():
                process.wait(30)

        pushes = Counter(p["path"] for p in receiver.received)
        emails = Counter(r.rcpt_tos[0] for r in smtp.received)
        assert set(pushes) == {f"/push/u{i}" for i in range(USERS)}  # 0 lost
        assert set(emails) == {f"u{i}@example.com" for i in range(USERS)}
        assert {p["payload"]["body"] for p in receiver.received} == {"To everyone, once"}
        push_repeats, email_repeats = sum(pushes.values()) - USERS, sum(emails.values()) - USERS
        assert push_repeats <= WAVE and email_repeats <= WAVE  # at most the wave in flight
        assert push_repeats + email_repeats <= WAVE  # and only the killed job's

        killed = Job.fetch(job_id, connection=queue.connection)
        assert killed.get_status() == JobStatus.FAILED and not killed.retries_left  # not run again by RQ
        assert killed.args[0] == sent.message.pk
        assert queue.failed_job_registry.get_job_ids() == [job_id]  # every other job succeeded
        assert "Deliveries of dead workers: 1 queued again, 0 failed for good" in log_path.read_text()
        assert not receiver.rejected
        print(
            f"killed {victim} in {killed.func_name} after {arrived_before[0]} pushes and "
            f"{arrived_before[1]} emails of {USERS} each; repeated: {push_repeats} pushes, "
            f"{email_repeats} emails"
        )
