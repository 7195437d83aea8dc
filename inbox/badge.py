"""The unread badge: one bounded count query, shown as "3" or "99+"."""

from __future__ import annotations

from dataclasses import dataclass

from .conf import inbox_setting
from .models import Notification

__all__ = ["Badge", "badge_for"]


@dataclass(frozen=True)
class Badge:
    count: int  # exact up to `limit`, where it stops counting
    limit: int

    @property
    def label(self) -> str:
        return f"{self.limit}+" if self.count > self.limit else str(self.count)


def badge_for(user) -> Badge:
    limit = inbox_setting("BADGE_MAX")
    # Count one past the limit, so "99" and "99+" can be told apart.
    return Badge(count=Notification.objects.unread_count(user, limit + 1), limit=limit)
