"""Which push subscriptions a login session saved or confirmed, so that logging out removes them.

A browser keeps its push subscription across logins; if the server kept it too, the next user
of that browser would get the previous user's pushes. Every logout path (the site's, the
admin's, any view calling django.contrib.auth.logout) sends `user_logged_out`, and
`unsubscribe_on_logout` deletes the subscriptions this session recorded. The page unsubscribes
the browser itself (static/inbox/push.js).
"""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_out
from webpush.models import SubscriptionInfo

__all__ = ["connect_signals", "forget", "recorded", "remember", "unsubscribe_on_logout"]

SESSION_KEY = "inbox_push_subscriptions"
REMEMBERED = 20  # a session rarely has more than one; the list stays small


def recorded(session) -> list[int]:
    ids = session.get(SESSION_KEY)
    if not isinstance(ids, list):
        return []
    return [i for i in ids if isinstance(i, int) and not isinstance(i, bool)][-REMEMBERED:]


def remember(session, subscription_id: int) -> None:
    if recorded(session)[-1:] == [subscription_id]:
        return  # already the newest: the session is not written again on every page load
    ids = [i for i in recorded(session) if i != subscription_id]
    session[SESSION_KEY] = [*ids, subscription_id][-REMEMBERED:]


def forget(session, subscription_id: int) -> None:
    ids = recorded(session)
    if subscription_id in ids:
        session[SESSION_KEY] = [i for i in ids if i != subscription_id]


def unsubscribe_on_logout(sender, request=None, user=None, **kwargs) -> None:
    """user_logged_out receiver: delete the user's subscriptions this session recorded."""
    session = getattr(request, "session", None)
    if session is None or user is None:
        return
    if ids := recorded(session):
        SubscriptionInfo.objects.filter(pk__in=ids, webpush_info__user=user).delete()


def connect_signals() -> None:
    """Called from InboxConfig.ready()."""
    user_logged_out.connect(unsubscribe_on_logout, dispatch_uid="inbox.push_session")
