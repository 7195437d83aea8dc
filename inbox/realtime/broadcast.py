"""A new message to the process's connected recipients (a "sent" event): one query per 1,000
connected users for their rows and badges, every piece that sockets share rendered and
JSON-encoded once for the whole broadcast, and each socket's frame joined from those pieces."""

from __future__ import annotations

from channels.db import database_sync_to_async

from inbox.models import Notification
from inbox.web.items import csrf_input, message_item

from . import frames, queries
from .sending import Sending

__all__ = ["Broadcast", "sent"]


class Broadcast:
    """The frames of one message's broadcast. The pieces sockets share are made once each (the
    badge and the frame around it per count, the item per place and filters, the prepend wrapper,
    the announcement); per socket only its item's id and CSRF token are filled in, so a broadcast
    costs a render per distinct piece, not per socket."""

    def __init__(self, message):
        self.message = message
        self.announce = frames.encoded(frames.announce(message))
        self.prepend_head, self.prepend_tail = frames.encoded_prepender()
        self.badges: dict[int, tuple[str, tuple[str, str]]] = {}
        self.items: dict[tuple, object] = {}

    def frame(self, row, state, dropdown=None) -> str:
        """The frame of one socket whose page shows `state` (updated: the item is shown now)."""
        badge, around = self._badge(row.unread)
        parts = [badge]
        if state.dashboard and state.top and state.lists(self.message, row.read):
            parts += (self.prepend_head, self._item(row, state), self.prepend_tail)
            state.shown.add(row.id)
            if state.newest is None or (row.created, row.id) > state.newest:
                state.newest = (row.created, row.id)
        if dropdown is not None:
            parts.append(frames.encoded(frames.dropdown(dropdown, state.csrf)))
        parts.append(self.announce)
        return frames.encoded_frame("".join(parts), badge=row.unread, around=around)

    def _badge(self, count: int):
        if count not in self.badges:
            self.badges[count] = (frames.encoded(frames.badge(count)), frames.frame_around(count))
        return self.badges[count]

    def _item(self, row, state) -> str:
        """One recipient's item, encoded: rendered once per (place, filters, read, created), then
        only its id and CSRF token filled in."""
        key = (state.filter, state.kind, state.level, row.read, row.created)
        if key not in self.items:
            template = message_item(
                self.message,
                state.filter,
                created=row.created,
                read=row.read,
                kind=state.kind,
                level=state.level,
            )
            self.items[key] = None if template is None else frames.encoded_item(template)
        template = self.items[key]
        if template is not None:
            return template.filled(str(row.id), frames.encoded(csrf_input(state.csrf or None)))
        # A message whose text holds a placeholder cannot be filled in: rendered as it is.
        notification = Notification(
            pk=row.id,
            recipient_id=row.user_id,
            message=self.message,
            created=row.created,
            read_at=row.created if row.read else None,  # read already, in the blink since
        )
        return frames.encoded(
            frames.item(notification, state.filter, state.csrf, oob=False, kind=state.kind, level=state.level)
        )


async def sent(hub, message_id: int) -> None:
    """Send message `message_id` to its connected recipients' sockets."""
    if not hub.users:
        return
    message, rows = await database_sync_to_async(queries.sent_rows)(message_id, list(hub.users))
    if not rows:
        return
    open_dropdowns = [r.user_id for r in rows if any(c.state.dropdown for c in hub.users.get(r.user_id, ()))]
    dropdowns = await hub.dropdowns(open_dropdowns)
    broadcast = Broadcast(message)
    sending = Sending()
    for row in rows:
        for consumer in list(hub.users.get(row.user_id, ())):
            if consumer.busy():
                continue
            dropdown = dropdowns.get(row.user_id) if consumer.state.dropdown else None
            sending.add(consumer, broadcast.frame(row, consumer.state, dropdown))
    hub.wait_for(sending)
