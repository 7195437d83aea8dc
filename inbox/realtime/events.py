"""Publishing: what happened, told to every web process's hub, from whichever process made the
change (a request, a command, the task worker). Every function here runs after the commit and
never raises: a lost real-time event costs a live update (the page catches up on reconnect and
the badge poll is the fallback), never the change itself.

Events are small JSON objects:
    {"type": "sent", "message": id}                     a notify() was committed
    {"type": "changed", "user": id, "read": [ids], "unread": [ids], "deleted": [ids],
     "all_read": bool, "tab": "tab id or empty"}        a user changed their notifications
    {"type": "logout", "session": hash}                 a session logged out
    {"type": "account", "user": id}                     a user's password or active flag changed,
                                                        or the user was deleted: their sockets
                                                        check their sessions
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import threading
import time
from datetime import timedelta
from functools import partial

from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_delete, post_init, post_save
from django.utils import timezone
from django.utils.crypto import salted_hmac

from inbox.conf import inbox_setting
from inbox.signals import acting_tab, notification_changed, notification_read

from .outage import Outage
from .transport import GROUP, transport

__all__ = ["account", "changed", "connect_signals", "logout", "prune", "publish", "sent", "session_hash"]

logger = logging.getLogger(__name__)
PRUNE_EVERY = 256  # the "database" transport deletes old events after every this many
PUBLISH_SECONDS = 2  # a send to the channel layer that takes longer has failed
PROBE_SECONDS = 5  # while the channel layer is down, one event tries it this often
MAX_PENDING = 1000  # events waiting for the channel layer; more are dropped


def publish(event: dict) -> None:
    """Tell every web process about `event` (a JSON-able dict with a "type")."""
    try:
        if transport() == "layer":
            _publish_layer(event)
        else:
            _publish_database(event)
    except Exception:
        logger.exception("Could not publish the real-time event %s", event.get("type"))


def _publish_database(event: dict) -> None:
    from .models import RealtimeEvent

    row = RealtimeEvent.objects.create(payload=event)
    if row.pk % PRUNE_EVERY == 0:
        prune()


def prune() -> int:
    """Delete the events every hub has long read (older than INBOX_REALTIME_EVENT_MINUTES)."""
    from .models import RealtimeEvent

    cutoff = timezone.now() - timedelta(minutes=inbox_setting("REALTIME_EVENT_MINUTES"))
    deleted, _ = RealtimeEvent.objects.filter(created__lt=cutoff).delete()
    return deleted


def _publish_layer(event: dict) -> None:
    from channels.layers import InMemoryChannelLayer, get_channel_layer

    layer = get_channel_layer()
    message = {"type": "inbox.event", "event": event}
    if isinstance(layer, InMemoryChannelLayer):  # one process (tests): its queues are the loop's
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            async_to_sync(layer.group_send)(GROUP, message)
        else:
            loop.create_task(layer.group_send(GROUP, message))
    else:
        _outbox.put(message)


class Outbox:
    """The process's publisher for a network channel layer (Redis): the caller (a request, a
    command, the worker, async code) hands the event over and goes on at once; a daemon thread's
    event loop sends the events in order. Its loop keeps channels-redis's connection (async_to_sync
    would run each event in a new loop, which connects anew).

    A layer that is down or hung costs no caller anything: a send that fails or takes longer than
    PUBLISH_SECONDS starts an outage (logged once), during which events are dropped except one
    every PROBE_SECONDS, which tries the layer again (its success is logged once). At most
    MAX_PENDING events wait; more are dropped. A lost event costs a live update, never the change:
    the pages poll while real time is down and catch up when their socket is back."""

    def __init__(self):
        self.lock = threading.Lock()
        self.idle = threading.Condition(self.lock)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.pending = 0  # handed to the loop, not sent or failed yet
        self.probe_at = 0.0  # while down: when the next event may try the layer
        self.outage = Outage(logger, "The channel layer (real-time events from this process)")

    def put(self, message: dict) -> None:
        with self.lock:
            if self.pending >= MAX_PENDING:
                return
            if self.outage.down:
                if time.monotonic() < self.probe_at:
                    return
                self.probe_at = time.monotonic() + PROBE_SECONDS
            self.pending += 1
            loop = self._loop()
        asyncio.run_coroutine_threadsafe(self._send(message), loop)

    def _loop(self) -> asyncio.AbstractEventLoop:
        if self.loop is None:
            self.loop = asyncio.new_event_loop()
            threading.Thread(
                target=self.loop.run_forever, name="inbox-realtime-publisher", daemon=True
            ).start()
        return self.loop

    async def _send(self, message: dict) -> None:
        from channels.layers import get_channel_layer

        try:
            async with asyncio.timeout(PUBLISH_SECONDS):
                await get_channel_layer().group_send(GROUP, message)
        except Exception as error:
            with self.lock:
                if self.outage.failed(error, "; real-time events are dropped until it answers again"):
                    self.probe_at = time.monotonic() + PROBE_SECONDS
        else:
            with self.lock:
                self.outage.recovered()
        finally:
            with self.lock:
                self.pending -= 1
                if not self.pending:
                    self.idle.notify_all()

    def wait(self, timeout: float) -> bool:
        """Wait until every event handed over is sent or failed (at most `timeout` s)."""
        with self.lock:
            return self.idle.wait_for(lambda: not self.pending, timeout)


_outbox = Outbox()


def _forget_publisher() -> None:
    """In a forked child (a server's worker): the parent's loop thread is not there, and its
    lock may have been held at the fork. The child starts its own on its first event."""
    global _outbox
    _outbox = Outbox()


os.register_at_fork(after_in_child=_forget_publisher)
# A command publishes and exits: what it handed over still goes out, waiting at most this long.
atexit.register(lambda: _outbox.wait(PUBLISH_SECONDS))


def sent(message_id: int) -> None:
    """The delivery channel (inbox.delivery): a committed notify() reaches open pages."""
    publish({"type": "sent", "message": int(message_id)})


def changed(user_id, read=(), unread=(), deleted=(), all_read=False, tab="") -> None:
    """The user's notifications changed state: their other tabs update (not `tab`, which acted)."""
    publish(
        {
            "type": "changed",
            "user": int(user_id),
            "read": [int(pk) for pk in read],
            "unread": [int(pk) for pk in unread],
            "deleted": [int(pk) for pk in deleted],
            "all_read": bool(all_read),
            "tab": str(tab),
        }
    )


def session_hash(session_key: str) -> str:
    """What names a session in events: never the key itself (events may cross Redis)."""
    return salted_hmac("inbox.realtime.session", session_key, algorithm="sha256").hexdigest()[:32]


def logout(session_key: str) -> None:
    """The session logged out: its sockets close."""
    publish({"type": "logout", "session": session_hash(session_key)})


def account(user_id) -> None:
    """The user's account changed: their sockets check that their sessions still log them in (a
    password changed elsewhere, a deactivated or deleted user: what the next request would find)."""
    publish({"type": "account", "user": int(user_id)})


# What decides whether a user's sessions still log them in (the session's auth hash is the
# password's, and an inactive user is refused): a save that changes neither tells no socket.
LOGIN_FIELDS = ("password", "is_active")
LOADED_STATE = "_inbox_realtime_login_state"  # on each user instance: its LOGIN_FIELDS as loaded


def _login_state(user) -> dict:
    """The user's LOGIN_FIELDS that are loaded (a deferred field is left out: unknown)."""
    deferred = user.get_deferred_fields()
    return {name: getattr(user, name, None) for name in LOGIN_FIELDS if name not in deferred}


def on_user_loaded(sender, instance, **kwargs) -> None:
    """Remember the login fields a user was loaded (or made) with: a save then compares, with
    no query of its own."""
    instance.__dict__[LOADED_STATE] = _login_state(instance)


def on_user_saved(sender, instance, created=False, update_fields=None, **kwargs) -> None:
    """An account event for a save that changed the password or the active flag; not for any
    other save (a login's last_login, a profile's name), which logs no session out."""
    before = instance.__dict__.get(LOADED_STATE)
    after = instance.__dict__[LOADED_STATE] = _login_state(instance)
    if created:
        return  # a new user has no session yet
    if update_fields is not None and not set(update_fields) & set(LOGIN_FIELDS):
        return
    unknown = object()  # a field deferred when loaded, assigned since: taken as changed
    if before is not None and all(before.get(name, unknown) == value for name, value in after.items()):
        return
    transaction.on_commit(partial(account, instance.pk), robust=True)


def on_user_deleted(sender, instance, **kwargs) -> None:
    transaction.on_commit(partial(account, instance.pk), robust=True)


def on_read(sender, user_id, notification_ids=(), all_read=False, **kwargs) -> None:
    changed(user_id, read=notification_ids, all_read=all_read, tab=acting_tab.get())


def on_changed(sender, user_id, unread=(), deleted=(), **kwargs) -> None:
    changed(user_id, unread=unread, deleted=deleted, tab=acting_tab.get())


def on_logout(sender, request=None, user=None, **kwargs) -> None:
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    if user is not None and key:
        transaction.on_commit(partial(logout, key), robust=True)


def connect_signals() -> None:
    notification_read.connect(on_read, dispatch_uid="inbox.realtime.read")
    notification_changed.connect(on_changed, dispatch_uid="inbox.realtime.changed")
    user_logged_out.connect(on_logout, dispatch_uid="inbox.realtime.logout")
    user_model = settings.AUTH_USER_MODEL  # "app_label.Model": connected once the model is ready
    post_init.connect(on_user_loaded, sender=user_model, dispatch_uid="inbox.realtime.account")
    post_save.connect(on_user_saved, sender=user_model, dispatch_uid="inbox.realtime.account")
    post_delete.connect(on_user_deleted, sender=user_model, dispatch_uid="inbox.realtime.account")
