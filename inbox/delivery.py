"""The delivery registry: every registered channel gets each message notify() stores.

The core knows no channel. A channel (a Django app such as `inbox.push`, listed in INSTALLED_APPS)
registers itself from its AppConfig's `ready()`, in INSTALLED_APPS' order:

    from inbox import delivery
    delivery.register("push", queue_push, in_transaction=True)  # queue_push(message) -> outbox rows
    delivery.register("realtime", publish_sent)                  # after the commit, best effort

A channel registered `in_transaction` is called with the Message inside notify()'s transaction
(the row just inserted, so it reads nothing back) and records its work there
(inbox.outbox.hand_over, returning the rows' ids, which notify() kicks after the commit): a
rollback sends nothing, a crash after COMMIT loses nothing, and if it cannot record its work the
notify() fails as a whole. Any other channel is called with the message's id right after the
commit, in the request or command that sent the notification, for what may be lost (a live
page's refresh, which polling makes up for); one failing never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the models import nothing of this module; only the annotation needs them
    from inbox.models import Message

__all__ = ["channels", "deliver", "record", "register", "unregister"]

logger = logging.getLogger(__name__)
_channels: dict[str, Callable[[int], None]] = {}
_recorded: dict[str, Callable[..., list[int] | None]] = {}


def register(name: str, deliver: Callable, *, in_transaction: bool = False) -> None:
    """Hand every message to `deliver` under `name` (replacing any channel of that name): as
    `deliver(message)` inside notify()'s transaction if `in_transaction`, else as
    `deliver(message_id)` once it has committed."""
    unregister(name)
    (_recorded if in_transaction else _channels)[name] = deliver


def unregister(name: str) -> None:
    _channels.pop(name, None)
    _recorded.pop(name, None)


def channels() -> tuple[str, ...]:
    return (*_channels, *_recorded)


def record(message: Message) -> list[int]:
    """Inside notify()'s transaction: each in-transaction channel records its hand-over of the
    Message; returns the ids of the outbox rows written. An error propagates: the notification
    is rolled back."""
    pks: list[int] = []
    for hand_over in list(_recorded.values()):
        pks += hand_over(message) or []
    return pks


def deliver(message_id: int) -> None:
    """After the commit: give the message to every other channel; one channel failing never stops
    the others, nor undoes the in-app notification, which is already committed."""
    for name, hand_over in list(_channels.items()):
        try:
            hand_over(message_id)
        except Exception:
            logger.exception("The %s channel could not take message %s", name, message_id)
