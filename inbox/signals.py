"""Signals for integrators. Each is sent after the change is committed.

notification_sent(sender=Message, message, count): a notify() call stored `message` for `count`
    recipients.
notification_read(sender=Notification, user_id, notification_ids, all_read): the user read the
    notifications with these ids (from the dashboard, the bell or a push notification), or with
    all_read=True every one of theirs ("Mark all as read"; notification_ids is then empty).
notification_changed(sender=Notification, user_id, unread, deleted): the user marked the
    notifications with the ids in `unread` as unread again, or deleted those in `deleted`, from
    the dashboard or the bell (reads go through notification_read).

`acting_tab` names the browser tab whose request makes a change (its X-Inbox-Tab header, set by
the web actions): a receiver that updates open pages live can skip the page that acted.
"""

from __future__ import annotations

from contextvars import ContextVar

from django.dispatch import Signal

__all__ = ["acting_tab", "notification_changed", "notification_read", "notification_sent"]

notification_sent = Signal()
notification_read = Signal()
notification_changed = Signal()

acting_tab: ContextVar[str] = ContextVar("inbox_acting_tab", default="")
