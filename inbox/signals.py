"""Signals for integrators. Both are sent after the change is committed.

notification_sent(sender=Message, message, count): a notify() call stored `message` for `count`
    recipients.
notification_read(sender=Notification, user_id, notification_ids, all_read): the user read the
    notifications with these ids (from the dashboard, the bell or a push notification), or with
    all_read=True every one of theirs ("Mark all as read"; notification_ids is then empty).
"""

from __future__ import annotations

from django.dispatch import Signal

__all__ = ["notification_read", "notification_sent"]

notification_sent = Signal()
notification_read = Signal()
