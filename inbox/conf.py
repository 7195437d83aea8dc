"""The inbox app's settings, all named INBOX_* and read in this one place."""

from __future__ import annotations

from django.conf import settings

__all__ = ["inbox_setting"]

DEFAULTS = {
    "BADGE_POLL_SECONDS": 15,  # how often the bell's badge is polled (the real-time fallback)
    "BADGE_MAX": 99,  # the badge counts up to this, then shows "99+": the count stays O(1)
    "DROPDOWN_SIZE": 8,  # unread items in the bell's dropdown
    "PAGE_SIZE": 20,  # items per dashboard page
    "FANOUT_BATCH_SIZE": 2000,  # recipient rows per INSERT when recipients are a list
}


def inbox_setting(name: str):
    return getattr(settings, f"INBOX_{name}", DEFAULTS[name])
