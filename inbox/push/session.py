"""Push ends with the login session that turned it on.

A browser keeps its push subscription across logins, and a push carries the notification's text:
if the server kept sending after the session ended, the next user of that browser (or whoever
holds a stolen laptop) would read the previous user's notifications. So each subscription is
bound to the session that saved or last confirmed it (PushSession: its key and the user's session
auth hash), and is deleted when that session ends:

- logging out (`user_logged_out`, sent by every logout path): the subscriptions bound to it
  (with signed-cookie sessions, which have no key on the server, all of the user's key-less ones);
- another user logging in over the session (`user_logged_in`; Django then empties the session
  and gives it a new key): the previous user's subscriptions bound to the old key. The same user
  logging in again keeps them, bound to the new key;
- a password change (the user's post_save): Django sends no signal, but the user's session auth
  hash changes, which logs out every session of that user; the subscriptions bound under the
  old hash go too, this browser's included (turn push on again);
- deactivation (post_save with is_active False);
- what sends no signal (a QuerySet.update() of passwords or is_active, a session that expires or
  is deleted): the worker's periodic sweep (inbox.push.sweep).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_save
from webpush.models import SubscriptionInfo

from .models import PushSession

__all__ = ["bind", "connect_signals", "valid_auth_hashes"]

SESSION_KEY_MAX_LENGTH = 40  # Django's own session keys; a signed-cookie "key" is the whole cookie


def session_key_of(session) -> str:
    """The key the session is stored under, or "" for an engine that stores none on the server."""
    key = session.session_key or ""
    return key if len(key) <= SESSION_KEY_MAX_LENGTH else ""


def valid_auth_hashes(user) -> list[str]:
    """The session auth hashes Django accepts for this user now (the current SECRET_KEY's and
    those of SECRET_KEY_FALLBACKS, as django.contrib.auth.get_user does)."""
    return [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]


def bind(request, subscription_id: int, current: PushSession | None = None) -> None:
    """Bind the subscription to the request's session (written only when it changes: the page
    confirms its subscription on every load). `current` is its binding, if already read."""
    key = session_key_of(request.session)
    auth_hash = request.user.get_session_auth_hash()
    if current is not None and (current.session_key, current.auth_hash, current.user_id) == (
        key,
        auth_hash,
        request.user.pk,
    ):
        return
    PushSession.objects.update_or_create(
        subscription_id=subscription_id,
        defaults={"session_key": key, "auth_hash": auth_hash, "user": request.user},
    )


def end_for_logout(sender, request=None, user=None, **kwargs) -> None:
    """user_logged_out receiver: delete the subscriptions bound to this session. A session kept
    nowhere on the server (signed cookies) has no key and cannot be told from the user's other
    such sessions: all of the user's subscriptions bound with no key end (push on her other
    browsers too, until their pages turn it on again), rather than none."""
    session = getattr(request, "session", None)
    if session is None:
        return
    if key := session_key_of(session):
        SubscriptionInfo.objects.filter(inbox_session__session_key=key).delete()
    elif user is not None and user.pk is not None:
        SubscriptionInfo.objects.filter(inbox_session__session_key="", inbox_session__user=user).delete()


def end_for_login(sender, request=None, user=None, **kwargs) -> None:
    """user_logged_in receiver: login() has given the session a new key. The key the browser
    came with (its cookie) names the session it had: its subscriptions are the new user's to keep
    (bound to the new key) or another user's to end."""
    if request is None or user is None or not hasattr(request, "session"):
        return
    old_key = getattr(request, "COOKIES", {}).get(settings.SESSION_COOKIE_NAME, "")
    new_key = session_key_of(request.session)
    if not old_key or len(old_key) > SESSION_KEY_MAX_LENGTH or old_key == new_key:
        return
    bound = PushSession.objects.filter(session_key=old_key)
    # A session login() emptied has no key yet: nothing to bind to, so its push ends too.
    ending = bound.exclude(user=user) if new_key else bound
    SubscriptionInfo.objects.filter(inbox_session__in=ending).delete()
    if new_key:
        bound.update(session_key=new_key, auth_hash=user.get_session_auth_hash())


def end_for_user_change(sender, instance, update_fields=None, **kwargs) -> None:
    """post_save of the user: a changed password (a new session auth hash) or deactivation
    ends the subscriptions bound under the old hash, or all of them. One DELETE (a SELECT when
    there is nothing to delete); none at all for a save of other fields, such as last_login."""
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return
    if kwargs.get("created") or kwargs.get("raw"):
        return
    mine = SubscriptionInfo.objects.filter(webpush_info__user=instance)
    if getattr(instance, "is_active", True):
        # Unbound ones (saved before bindings existed) go too: the exclude keeps NULLs out.
        mine = mine.exclude(inbox_session__auth_hash__in=valid_auth_hashes(instance))
    mine.delete()


def connect_signals() -> None:
    """Called from inbox.push.ready()."""
    user_logged_out.connect(end_for_logout, dispatch_uid="inbox.push_session")
    user_logged_in.connect(end_for_login, dispatch_uid="inbox.push_session.login")
    post_save.connect(end_for_user_change, sender=get_user_model(), dispatch_uid="inbox.push_session.user")
