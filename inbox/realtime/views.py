"""The socket's URL over plain HTTP: a clear answer, not a 404, for a request that did not (or
could not, through a proxy or a WSGI server) upgrade to a WebSocket.

A 400, not a 426: a 426 must name the protocol in an `Upgrade` header, a hop-by-hop header that
a WSGI server refuses from the application (Django's runserver turned every answer into a 500,
"Hop-by-hop header not allowed", on each of the page's retries).

Served by a WSGI server alone (runserver, gunicorn), which can never upgrade, the answer says so
in `X-Inbox-Socket: needs-asgi` (an ordinary header, which WSGI servers pass on): the page's
realtime.js, whose socket fails to open, asks this URL once over plain HTTP and gives its socket
up for good only on that answer. Served by the ASGI server (the socket's own server, where a
plain request reaches this view too), the header is absent: a failed open there (a restart, the
connect throttle, the network) is worth retrying. The page's question carries
`X-Inbox-Socket: probe` and is answered 200, not 400: a browser logs every 4xx a script fetches
as an error in the console, the noise the page's giving up spares."""

from __future__ import annotations

from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse, HttpResponseBadRequest

HEADER, NEEDS_ASGI, PROBE = "X-Inbox-Socket", "needs-asgi", "probe"


def _over_asgi(request) -> bool:
    """Served by an ASGI server: Django's ASGI handler, or its WSGI handler under config.asgi's
    a2wsgi middleware (which puts the ASGI scope in the environ)."""
    return isinstance(request, ASGIRequest) or "asgi.scope" in request.META


def socket(request):
    answer = HttpResponse if request.headers.get(HEADER) == PROBE else HttpResponseBadRequest
    response = answer(
        "This is the address of Inbox's WebSocket: connect with a WebSocket client. A plain HTTP "
        "request reaches it when the server cannot upgrade the connection: real time needs an "
        "ASGI server (uvicorn or daphne) on this address, or a proxy that passes the upgrade on.",
        content_type="text/plain; charset=utf-8",
    )
    if not _over_asgi(request):
        response[HEADER] = NEEDS_ASGI
    response["Cache-Control"] = "no-store"
    return response
