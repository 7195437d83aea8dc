"""Task backends for the outbox's tests."""

from __future__ import annotations

import threading
import time
import uuid

from django.db import connection
from django.tasks import task
from django.tasks.backends.dummy import DummyBackend

from inbox.outbox import durable


class BrokenQueue(Exception):
    pass


class FailingBackend(DummyBackend):
    """A task backend whose queue is down: every enqueue raises (a Redis or database outage)."""

    def enqueue(self, task, args, kwargs):
        raise BrokenQueue("the task queue is unreachable")


class FlappingBackend(DummyBackend):
    """A task backend whose queue fails every other enqueue (a network that flaps)."""

    calls = 0

    def enqueue(self, task, args, kwargs):
        type(self).calls += 1
        if type(self).calls % 2 == 0:
            raise BrokenQueue("the task queue dropped the connection")
        return super().enqueue(task, args, kwargs)


RAN: list[int] = []


@task
@durable
def record_run(value: int) -> int:
    """A delivery task that only records that it ran."""
    RAN.append(value)
    return value


class FastWorkerBackend(DummyBackend):
    """A task backend outside the database (RQ): the job is visible to a worker at once, before
    the relay's transaction commits, and a fast worker (a thread with its own connection) starts
    it then. enqueue() returns once that worker has finished or waits on a row lock."""

    def enqueue(self, task, args, kwargs):
        result = super().enqueue(task, args, kwargs)
        worker = threading.Thread(target=self.work, args=(task, args, kwargs))
        worker.start()
        type(self).workers.append(worker)
        with connection.cursor() as cursor:
            for _ in range(3000):  # a bound for a broken test only, not a timing assertion
                cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
                if not worker.is_alive() or cursor.fetchone()[0]:
                    break
                time.sleep(0.01)
        return result

    workers: list[threading.Thread] = []
    outcomes: list[object] = []

    def work(self, task, args, kwargs):
        try:
            type(self).outcomes.append(task.call(*args, **kwargs))
        finally:
            connection.close()


@task
@durable
def interrupted(kind: str) -> None:
    """A delivery task stopped mid-run: a second SIGTERM to the worker, or Ctrl-C."""
    raise {"exit": SystemExit(1), "ctrl-c": KeyboardInterrupt()}[kind]


def take_over() -> None:
    """What a second run does to the (single) hand-over row after recover() took the first run for
    dead: the relay enqueued it again and another worker started it (its attempt 2)."""
    from django.db.models import F
    from django.utils import timezone

    from inbox.outbox import Handover

    Handover.objects.update(
        state="running", attempts=F("attempts") + 1, started_at=timezone.now(), run_token=uuid.uuid4()
    )


def taken_for_dead() -> None:
    """recover() finds the (single) running row silent for a lease and puts it back, PENDING:
    nobody has started it again yet."""
    from datetime import timedelta

    from django.utils import timezone

    from inbox.outbox import Handover, recover

    Handover.objects.update(started_at=timezone.now() - timedelta(days=1))
    assert recover() == 1


@task
@durable
def overtaken(then: str, how: str = "restarted") -> str:
    """A run that is taken for dead mid-run (it was slow, not dead): put back by recover() alone
    ("recovered") or also started again by another worker ("restarted"); then it returns,
    raises, is interrupted, plans batches or beats."""
    from inbox import outbox

    taken_for_dead() if how == "recovered" else take_over()
    if then == "raise":
        raise BrokenQueue("a database blip, late")
    if then == "interrupt":
        raise SystemExit(1)
    if then == "plan":
        outbox.plan(record_run, [[7], [8]], channel="push")
    if then == "beat":
        outbox.heartbeat()
        RAN.append(-1)  # not reached: the heartbeat stopped the run
    return then


@task
@durable
def beating(waits: list[float]) -> list:
    """A long run: a heartbeat after each wait (the outbox's clock moved on by it); returns the
    row's beat_at after each."""
    from inbox import outbox
    from inbox.outbox import Handover

    beats = []
    for wait in waits:
        outbox.clock = _moved(outbox.clock, wait)
        outbox.heartbeat()
        beats.append(Handover.objects.values_list("beat_at", flat=True).get())
    return beats


def _moved(clock, seconds: float):
    at = clock() + seconds
    return lambda: at
