"""Task backends for the outbox's tests."""

from __future__ import annotations

from django.tasks.backends.dummy import DummyBackend


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
