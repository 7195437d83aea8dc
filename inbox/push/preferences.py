"""Push's parts of the web UI's pages (registered by PushConfig.ready() in inbox.web.extensions):
the push switch at the foot of the bell's dropdown, and the browsers receiving push on the
preferences page."""

from __future__ import annotations

from webpush.models import SubscriptionInfo

from .keys import push_configured, vapid_public_key

__all__ = ["bell_switch", "subscriptions_section"]


def bell_switch() -> dict:
    """What the bell's push switch needs (inbox/push/toggle.html)."""
    return {"inbox_vapid_public_key": vapid_public_key()}


def subscriptions_section(user, form) -> dict:
    """The push switch and the user's browsers receiving push (inbox/push/preferences.html)."""
    subscriptions = SubscriptionInfo.objects.filter(webpush_info__user=user).distinct()
    return {
        "subscriptions": subscriptions.order_by("-id"),
        "push_available": push_configured(),
        "inbox_vapid_public_key": vapid_public_key(),
    }
