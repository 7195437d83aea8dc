"""What `manage.py purge_notifications` deletes beside old notifications, registered by the apps'
AppConfig.ready() (push: its old receipts; real time: its old events): the command purges the
rows of the installed apps, and knows none of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.db.models import QuerySet

__all__ = ["Purge", "register", "registered"]


@dataclass(frozen=True)
class Purge:
    app: str  # the app that registered it: purged only while it is installed
    what: str  # for the command's report: "old push receipts"
    rows: Callable[[datetime], QuerySet]  # the rows to delete, given the time the run started


_purges: dict[str, Purge] = {}


def register(app: str, what: str, rows: Callable[[datetime], QuerySet]) -> None:
    """Delete `rows(now)` in every purge while `app` is installed; registering the same `what`
    again (ready() runs again in tests) replaces it."""
    _purges[what] = Purge(app, what, rows)


def registered() -> list[Purge]:
    return [purge for purge in _purges.values() if apps.is_installed(purge.app)]
