"""The inbox app's settings, all named INBOX_* and read in this one place."""

from __future__ import annotations

from django.conf import settings
from django.core.signals import setting_changed

__all__ = ["inbox_setting"]

DEFAULTS = {
    # A module the site's kinds of notification are registered in (inbox.kinds.register(...)),
    # imported once the app is ready; None: only the app's own "general" kind.
    "KINDS_MODULE": None,
    # The URL name of the service worker the page registers: the app's own handlers by default; a
    # site with a worker of its own names that one, which importScripts() the app's handlers.
    "SERVICE_WORKER": "inbox:sw",
    # The site's own static files that its pages need offline (its stylesheet, say): the service
    # worker precaches them with the app's.
    "OFFLINE_ASSETS": (),
    "BADGE_POLL_SECONDS": 15,  # how often the bell's badge is polled (the real-time fallback)
    "BADGE_MAX": 99,  # the badge counts up to this, then shows "99+": the count stays O(1)
    "DROPDOWN_SIZE": 8,  # unread items in the bell's dropdown
    "PAGE_SIZE": 20,  # items per dashboard page
    # Each item's HTML is rendered once per process and message, with stand-ins for the id and the
    # CSRF token (inbox.web.items); False renders every item through its partial each time.
    "ITEM_CACHE": True,
    # The badge's count and the lists' rows run as SQL written out once (inbox.fast_reads, checked
    # against the QuerySet's rules by the tests); False runs the QuerySets themselves.
    "FAST_READS": True,
    "MAX_EXPIRY_DAYS": 3650,  # an expiry is at most this many days ahead
    "FANOUT_BATCH_SIZE": 2000,  # recipient rows per INSERT when recipients are a list
    "PUSH_TTL": 24 * 3600,  # seconds a push service keeps an undelivered push (less if it expires)
    "PUSH_CONCURRENCY": 100,  # pushes in flight at once (and connections per push service, kept open)
    "PUSH_TIMEOUT": 10,  # seconds for one push service request
    "PUSH_MAX_ATTEMPTS": 5,  # a 429, 5xx or network error is retried until this many attempts
    "PUSH_RETRY_BASE_SECONDS": 30,  # backoff: 30 s, 60 s, 120 s, ... (or the Retry-After header)
    # The ports a push endpoint may use: FCM, Mozilla autopush, Apple and Windows (WNS) all
    # take pushes on https's 443. Another port is refused when saving and when sending.
    "PUSH_PORTS": (443,),
    # Seconds between two sweeps queued by `manage.py inbox_worker`, which end push for sessions
    # that expired or were deleted, and users deactivated or whose password changed by
    # QuerySet.update() (logout, login and a saved change end it at once).
    "PUSH_SWEEP_INTERVAL": 300,
    "PUSH_ALLOW_LOOPBACK": False,  # tests only: accept http://127.0.0.1 push endpoints
    "ANONYMOUS_RATE": "60/m",  # requests per address to the endpoints that need no login
    # Subscriptions per delivery task, first delivery and retries alike: a task's run time stays
    # bounded (at worst about BATCH_SIZE / CONCURRENCY x 2 x TIMEOUT seconds), so a lease can end it.
    "PUSH_BATCH_SIZE": 500,
    # Pushes sent between two writes of their receipts: a worker killed mid-delivery repeats at
    # most this many (the notification tag makes a repeat replace, not add, the OS notification).
    "PUSH_WAVE_SIZE": 100,
    # A delivery task still RUNNING this long after it started is taken as abandoned (its worker
    # died) and queued again by `manage.py inbox_worker`; keep it above a batch's worst run time.
    "TASK_LEASE_SECONDS": 15 * 60,
    # A delivery task that raises (a database blip, a bug in a template) runs again after
    # DELIVERY_RETRY_BASE_SECONDS x 2^(attempt-1), until DELIVERY_MAX_ATTEMPTS runs have failed;
    # then its hand-over is FAILED with the reason, in the admin and the worker's log.
    "DELIVERY_MAX_ATTEMPTS": 5,
    "DELIVERY_RETRY_BASE_SECONDS": 30,
    # Seconds between two passes of the relay in `manage.py inbox_worker`, which enqueues the
    # delivery hand-overs that are due and were not enqueued at their commit (see inbox.outbox).
    "RELAY_INTERVAL": 1.0,
    # A push's receipt is needed only while its delivery may run again: within the lease and the
    # retries' backoff (hours at most). `purge_notifications` deletes receipts older than this.
    "PUSH_RECEIPT_DAYS": 7,
    # Real time (inbox.realtime). How events travel between processes: "database" (a small table
    # each web process polls) or "layer" (the channel layer, e.g. channels-redis pub/sub). None
    # picks "layer" when CHANNEL_LAYERS configures a layer other than the in-memory one.
    "REALTIME_TRANSPORT": None,
    "REALTIME_POLL_SECONDS": 0.25,  # "database": how often each web process reads new events
    "REALTIME_EXPIRY_SECONDS": 5,  # how often each web process removes newly expired items
    "REALTIME_EVENT_MINUTES": 5,  # "database": events older than this are deleted
    # A web process whose last socket closed keeps listening this long (a page reload reconnects).
    "REALTIME_IDLE_SECONDS": 30,
    # How often each web process checks that its sockets' sessions still log their users in: a
    # session deleted or a user deactivated without an event (a bulk update, a script) closes its
    # sockets within this time. One query per 1,000 sockets' sessions and one per 1,000 users.
    "REALTIME_SESSION_CHECK_SECONDS": 60,
    # A socket that has not taken a frame this long after it was sent (its client stopped
    # reading) is closed (1013); its page reconnects and catches up. Never holds up other sockets.
    "REALTIME_SEND_SECONDS": 5,
    # Socket opens per client address (django-ratelimit's rate, counted in the site's cache; None:
    # no limit). A page opens one per load; past the rate the handshake is refused and it polls.
    "REALTIME_CONNECT_RATE": "120/m",
    # Where pages connect their socket: None, the socket's path on the page's own origin (a
    # reverse proxy sends that path to the ASGI server and the rest to the WSGI server); a port
    # number, that port on the host the page came from (`make run`, with no proxy: HTTP on one
    # port, sockets on the next). connect-src in the site's CSP must then allow ws://host:port.
    "SOCKET_PORT": None,
    # Emails link back to the site with absolute URLs: its address as users reach it, no slash at the end.
    "SITE_URL": "http://localhost:8000",
    # Emails per delivery task, sent through one SMTP connection (first delivery and retries alike).
    "MAIL_BATCH_SIZE": 200,
    # Emails sent between two writes of their receipts: a worker killed mid-batch repeats at most this many.
    "MAIL_WAVE_SIZE": 50,
    "MAIL_MAX_ATTEMPTS": 5,  # a 4xx answer or a connection failure is retried until this many attempts
    "MAIL_RETRY_BASE_SECONDS": 60,  # backoff: 60 s, 120 s, 240 s, ...
    "MAIL_READ_TOKEN_DAYS": 90,  # an email's "Mark as read" link works this long
    "DIGEST_INTERVAL": 300,  # seconds between two digest runs queued by `manage.py inbox_worker`
    "DIGEST_MAX_ITEMS": 20,  # notifications listed in one digest; the rest are "and N more"
    "DIGEST_BATCH_SIZE": 200,  # users per digest batch (one SMTP connection, a fixed number of queries)
    # A digest takes only notifications at least this old: a fan-out still committing (its rows carry
    # the time notify() started) is never passed over by a cursor that moved on meanwhile.
    "DIGEST_SETTLE_SECONDS": 120,
}


def inbox_setting(name: str):
    """settings.INBOX_<name>, or its default. Kept once read: a page reads several, and looking up
    a setting the site leaves out (its default) raises and catches an AttributeError each time."""
    value = _read.get(name, _UNREAD)
    if value is _UNREAD:
        value = _read[name] = getattr(settings, f"INBOX_{name}", DEFAULTS[name])
    return value


_UNREAD = object()
_read: dict = {}


def _forget(*, setting: str, **kwargs) -> None:
    if setting.startswith("INBOX_"):  # tests change settings; a running site never does
        _read.clear()


setting_changed.connect(_forget, dispatch_uid="inbox.conf.forget")
