"""The socket's opening handshake judged as Django judges an HTTP request, for it is one (a GET
with an Upgrade header): its Host must be in ALLOWED_HOSTS and its Origin must be one the site's
pages come from, as Django's CSRF check decides it for a POST: the request's own origin (scheme,
host and port; the scheme as SECURE_PROXY_SSL_HEADER says behind a TLS proxy) or one of
CSRF_TRUSTED_ORIGINS ("https://*.example.com" for subdomains).

A browser sends a site's cookies with a socket opened by any page, whatever its origin, even a
page on another port of the same host; the Origin header is what tells them apart, and the host
alone (ALLOWED_HOSTS, Channels' AllowedHostsOriginValidator) does not. When pages are served
from another origin than the socket (`make run`: pages on port 8000, sockets on 8001, see
INBOX_SOCKET_PORT), the pages' origin goes in CSRF_TRUSTED_ORIGINS."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest
from django.utils.http import is_same_domain

__all__ = ["OriginValidator", "handshake_request", "origin_allowed"]

HTTP_SCHEMES = {"ws": "http", "wss": "https"}


def handshake_request(scope) -> HttpRequest:
    """The handshake of a websocket `scope` as Django's request (GET, no body): its META, host,
    scheme and client address are what Django would read for the same HTTP request."""
    http_scope = {
        **scope,
        "type": "http",
        "method": "GET",
        "scheme": HTTP_SCHEMES.get(scope.get("scheme", "ws"), "http"),
    }
    return ASGIRequest(http_scope, io.BytesIO())


def origin_allowed(request: HttpRequest) -> bool:
    """Whether the request's Origin header is the request's own origin or a trusted one."""
    origin = request.META.get("HTTP_ORIGIN")
    if not origin or origin == "null":
        return False
    try:
        own = f"{request.scheme}://{request.get_host()}"
    except DisallowedHost:  # a host the site does not serve (DNS rebinding): nothing is trusted
        return False
    if origin == own or origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    try:
        parsed = urlsplit(origin)
    except ValueError:
        return False
    return any(
        is_same_domain(parsed.netloc, trusted.netloc.lstrip("*"))
        for trusted in map(urlsplit, settings.CSRF_TRUSTED_ORIGINS)
        if trusted.netloc.startswith("*") and trusted.scheme == parsed.scheme
    )


class OriginValidator:
    """ASGI middleware: refuses the handshake (403) of a socket from an origin not allowed."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if origin_allowed(handshake_request(scope)):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)
