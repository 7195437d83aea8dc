"""The delivery registry: once a notify() has committed, every registered channel gets the message.

The core knows no channel. A channel (a sub-package such as `inbox.push`) registers itself from
its `ready()`, which InboxConfig.ready() calls for each path in INBOX_CHANNELS:

    from inbox import delivery
    delivery.register("push", queue_push)   # queue_push(message_id) -> None

A channel's callable runs right after the commit, inside the request or command that sent the
notification, so it should only queue work (a task), never talk to the outside itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

__all__ = ["channels", "deliver", "register", "unregister"]

logger = logging.getLogger(__name__)
_channels: dict[str, Callable[[int], None]] = {}


def register(name: str, deliver: Callable[[int], None]) -> None:
    """Hand every committed message to `deliver(message_id)` under `name` (replacing any
    channel of that name)."""
    _channels[name] = deliver


def unregister(name: str) -> None:
    _channels.pop(name, None)


def channels() -> tuple[str, ...]:
    return tuple(_channels)


def deliver(message_id: int) -> None:
    """Give the message to every channel; one channel failing never stops the others, nor
    undoes the in-app notification, which is already committed."""
    for name, hand_over in list(_channels.items()):
        try:
            hand_over(message_id)
        except Exception:
            logger.exception("The %s channel could not take message %s", name, message_id)
