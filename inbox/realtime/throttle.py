"""Socket opens per client address: at most INBOX_REALTIME_CONNECT_RATE (None: no limit),
counted as the anonymous endpoints' requests are (inbox/throttle.py): django-ratelimit's fixed
window in the site's cache, its address (RATELIMIT_IP_META_KEY: behind proxies, the client's;
IPv6 by /64). Each open reads a session and starts a socket's upkeep; a client that opens them in
a loop is refused at the handshake instead. A cache that fails does not keep sockets shut: the
open is let through, and the failure logged once until the cache works again."""

from __future__ import annotations

import logging

from django.http import HttpRequest
from django_ratelimit import ALL
from django_ratelimit.core import get_usage

from inbox.conf import inbox_setting

__all__ = ["retry_after"]

logger = logging.getLogger(__name__)
GROUP = "inbox.realtime.connect"
_failing = False


def _rate(group, request) -> str | None:
    return inbox_setting("REALTIME_CONNECT_RATE")


def retry_after(request: HttpRequest) -> int | None:
    """Counts the handshake `request`; the seconds its address must wait if it is one too many,
    else None. A handshake with no client address (a Unix socket) is not counted."""
    global _failing
    if not request.META.get("REMOTE_ADDR"):
        return None
    try:
        usage = get_usage(request, group=GROUP, key="ip", rate=_rate, method=ALL, increment=True)
    except Exception:
        if not _failing:
            logger.exception("Socket opens are not counted: the cache failed")
        _failing = True
        return None
    if _failing:
        logger.info("Socket opens are counted again")
        _failing = False
    if usage is None or not usage["should_limit"]:
        return None
    return max(1, usage["time_left"])
