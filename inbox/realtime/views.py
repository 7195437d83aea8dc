"""The socket's URL over plain HTTP: a clear answer, not a 404, for a request that did not (or
could not, through a proxy) upgrade to a WebSocket."""

from __future__ import annotations

from django.http import HttpResponse


def socket(request):
    response = HttpResponse(
        "This is the address of Inbox's WebSocket: connect with a WebSocket client.",
        status=426,
        content_type="text/plain; charset=utf-8",
    )
    response["Upgrade"] = "websocket"
    return response
