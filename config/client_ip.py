"""The client's address, for the login lockout (django-axes) and the anonymous rate limit
(django-ratelimit): AXES_CLIENT_IP_CALLABLE and RATELIMIT_IP_META_KEY name `client_ip`.

Behind reverse proxies REMOTE_ADDR is the nearest proxy's (gunicorn does not rewrite it), and
each proxy appends the address it saw to X-Forwarded-For. With PROXY_COUNT proxies the client's
address is the PROXY_COUNT-th entry from the right: the one the outermost proxy wrote. Entries
further left come from the client and are not believed, so a made-up header cannot pick the
address it is counted under.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings

__all__ = ["client_ip"]


def client_ip(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    count = getattr(settings, "PROXY_COUNT", 0)
    if not count:
        return remote
    # rsplit with a bound: a header of any length costs at most `count` splits.
    entries = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", count)
    if len(entries) < count:
        return remote  # the request did not come through every proxy: count it under the nearest
    try:
        return str(ipaddress.ip_address(entries[-count].strip()))
    except ValueError:
        return remote
