"""The socket's URL over plain HTTP: a clear answer, not a 404, for a request that did not (or
could not, through a proxy or a WSGI server) upgrade to a WebSocket.

A 400, not a 426: a 426 must name the protocol in an `Upgrade` header, a hop-by-hop header that
a WSGI server refuses from the application (Django's runserver turned every answer into a 500,
"Hop-by-hop header not allowed", on each of the page's retries)."""

from __future__ import annotations

from django.http import HttpResponseBadRequest


def socket(request):
    return HttpResponseBadRequest(
        "This is the address of Inbox's WebSocket: connect with a WebSocket client. A plain HTTP "
        "request reaches it when the server cannot upgrade the connection: real time needs an "
        "ASGI server (uvicorn or daphne) on this address, or a proxy that passes the upgrade on.",
        content_type="text/plain; charset=utf-8",
    )
