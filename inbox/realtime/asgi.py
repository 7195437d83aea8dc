"""The socket's ASGI application, for the site's ProtocolTypeRouter (config/asgi.py):

    from inbox.realtime.asgi import websocket_application
    application = ProtocolTypeRouter({"http": ..., "websocket": websocket_application()})

The socket lives at the app's own URL, "ws/" under wherever the site includes inbox.urls
(reverse("inbox:realtime")). Sockets from an origin the site's pages do not come from are refused
(handshake.py: scheme, host and port; CSRF_TRUSTED_ORIGINS lists pages of other origins), and so
is any other path. The session cookie is all the consumer needs: it reads the session and its user
once, in one trip to a worker thread (consumer.py), rather than through Channels' session and auth
middleware, which read the session twice with the expiry check and look at the session again on
every frame sent.
"""

from __future__ import annotations

from channels.routing import URLRouter
from channels.security.websocket import WebsocketDenier
from channels.sessions import CookieMiddleware
from django.urls import path, re_path, reverse

from .consumer import RealtimeConsumer
from .handshake import OriginValidator

__all__ = ["websocket_application"]


def websocket_application():
    """Call after Django is set up (e.g. after get_wsgi_application()): it reverses the URL."""
    socket_path = reverse("inbox:realtime").lstrip("/")
    routes = [path(socket_path, RealtimeConsumer.as_asgi()), re_path(r"", WebsocketDenier.as_asgi())]
    return OriginValidator(CookieMiddleware(URLRouter(routes)))
