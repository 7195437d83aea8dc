"""A user's pages brought up to date after their notifications changed (a "changed" event from
another tab, a push notification's read link, mark all read) or expired: the badge, the shown
items re-rendered or removed, the open dropdown."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from channels.db import database_sync_to_async
from django.utils import timezone

from inbox.conf import inbox_setting

from . import frames, queries
from .sending import Sending
from .transport import transport

__all__ = ["changed", "expired", "watch_expiry"]

logger = logging.getLogger(__name__)
PRUNE_SECONDS = 60  # how often the "database" transport's old events are deleted


def _item_updates(state, gone_ids, changed_ids, current) -> list[str]:
    parts = []
    for pk in sorted(gone_ids & state.shown):
        parts.append(frames.gone(pk))
        state.shown.discard(pk)
    parts += frames.shown_updates(state, changed_ids & state.shown, current)
    return parts


async def changed(hub, event: dict) -> None:
    """A user changed their notifications: their other tabs get the items' new state (the tab
    that acted, named by the event, only the badge)."""
    user_id = int(event["user"])
    consumers = list(hub.users.get(user_id, ()))
    if not consumers:
        return
    read, unread, deleted = (set(map(int, event.get(key, ()))) for key in ("read", "unread", "deleted"))
    all_read, tab = bool(event.get("all_read")), str(event.get("tab", ""))
    others = [c for c in consumers if not tab or c.state.tab != tab]
    shown = set().union(*(c.state.shown for c in others if c.state.dashboard))
    affected = (shown if all_read else (read | unread) & shown) - deleted
    need_dropdown = any(c.state.dropdown for c in others)

    def load():
        count = queries.unread_count_of(user_id)
        items = queries.dropdown_items(user_id) if need_dropdown else None
        return count, queries.notifications(user_id, affected), items

    count, current, dropdown = await database_sync_to_async(load)()
    badge, read_tags = frames.badge(count), sorted(read | deleted)
    sending = Sending()
    for consumer in consumers:
        if consumer.busy():
            continue
        state, parts = consumer.state, [badge]
        if consumer in others:
            if state.dashboard:
                parts += _item_updates(state, deleted, affected, current)
            if state.dropdown:
                parts.append(frames.dropdown(dropdown, state.csrf))
        sending.add(consumer, frames.frame("".join(parts), badge=count, read=read_tags, all_read=all_read))
    hub.wait_for(sending)


async def watch_expiry(hub) -> None:
    """Every INBOX_REALTIME_EXPIRY_SECONDS: items whose message expired since the last look
    leave the pages (one indexed query when nothing expired). Also prunes old events."""
    since = timezone.now()
    pruned = since
    while True:
        await asyncio.sleep(inbox_setting("REALTIME_EXPIRY_SECONDS"))
        now = timezone.now()
        try:
            if hub.users:
                await expired(hub, since, now)
            if transport() == "database" and (now - pruned).total_seconds() >= PRUNE_SECONDS:
                from .events import prune

                await database_sync_to_async(prune)()
                pruned = now
        except Exception:
            logger.exception("Real-time expiry check failed")
        since = now


async def expired(hub, since, until) -> None:
    """The connected users' notifications that expired in (since, until] leave their pages."""
    rows = await database_sync_to_async(queries.expired_rows)(since, until, list(hub.users))
    if not rows:
        return
    by_user = defaultdict(set)
    for pk, user_id, _ in rows:
        by_user[user_id].add(pk)
    need_dropdown = [u for u in by_user if any(c.state.dropdown for c in hub.users.get(u, ()))]

    def load():
        return queries.unread_counts(list(by_user)), {u: queries.dropdown_items(u) for u in need_dropdown}

    counts, dropdowns = await database_sync_to_async(load)()
    badges = {}  # one render per count
    sending = Sending()
    for user_id, ids in by_user.items():
        count = counts.get(user_id, 0)
        if count not in badges:
            badges[count] = frames.badge(count)
        read_tags = sorted(ids)
        for consumer in list(hub.users.get(user_id, ())):
            if consumer.busy():
                continue
            state, parts = consumer.state, [badges[count]]
            if state.dashboard:
                parts += _item_updates(state, ids, set(), {})
            if state.dropdown and user_id in dropdowns:
                parts.append(frames.dropdown(dropdowns[user_id], state.csrf))
            sending.add(consumer, frames.frame("".join(parts), badge=count, read=read_tags))
    hub.wait_for(sending)
