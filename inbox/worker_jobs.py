"""What `manage.py inbox_worker` does for the apps of Inbox, registered by their
AppConfig.ready(): the work it queues when it starts and then every so often (mail: the digest
run; push: the sweep), and what it says when it starts (real time: how its events reach the
sockets). The worker does this for the installed apps, and knows none of them."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db import connections

from .conf import inbox_setting

__all__ = ["Periodic", "add_start_note", "due_jobs", "keep_queueing", "queue", "register", "start_notes"]

logger = logging.getLogger("inbox.worker")


@dataclass(frozen=True)
class Periodic:
    app: str  # the app that registered it: queued only while it is installed
    what: str  # for the log: "the digest run"
    task: object  # a django.tasks Task taking no argument
    interval_setting: str  # the INBOX_ setting (without the prefix) of its interval in seconds

    def every(self) -> float:
        return max(inbox_setting(self.interval_setting), 1)


_jobs: dict[str, Periodic] = {}
_notes: dict[str, Callable[[], str]] = {}


def register(app: str, what: str, task, interval_setting: str) -> None:
    """Queue `task` every INBOX_<interval_setting> seconds while `app` is installed. Registering
    the same task again (ready() runs again in tests) replaces it."""
    _jobs[task.module_path] = Periodic(app, what, task, interval_setting)


def due_jobs() -> list[Periodic]:
    return [job for job in _jobs.values() if apps.is_installed(job.app)]


def queue(job: Periodic) -> None:
    try:
        job.task.enqueue()
    except Exception:  # a database hiccup must not stop the worker; the next interval tries again
        logger.exception("Queueing %s failed", job.what)
    finally:
        connections.close_all()  # this thread's connections only


def keep_queueing(job: Periodic) -> None:
    while True:
        queue(job)
        time.sleep(job.every())


def add_start_note(app: str, note: Callable[[], str]) -> None:
    """Have the worker print `note()` when it starts, while `app` is installed."""
    _notes[app] = note


def start_notes() -> list[str]:
    return [note() for app, note in _notes.items() if apps.is_installed(app)]
