"""Task backends for the outbox's tests."""

from __future__ import annotations

from django.tasks.backends.dummy import DummyBackend


class BrokenQueue(Exception):
    pass


class FailingBackend(DummyBackend):
    """A task backend whose queue is down: every enqueue raises (a Redis or database outage)."""

    def enqueue(self, task, args, kwargs):
        raise BrokenQueue("the task queue is unreachable")
