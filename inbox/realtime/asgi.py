"""The socket's ASGI application, for the site's ProtocolTypeRouter (config/asgi.py):

    from inbox.realtime.asgi import websocket_application
    application = ProtocolTypeRouter({"http": ..., "websocket": websocket_application()})

The socket lives at the app's own URL, "ws/" under wherever the site includes inbox.urls
(reverse("inbox:realtime")). Sockets from another origin are refused (ALLOWED_HOSTS), the session
and user come from the cookies (AuthMiddlewareStack), and any other path is refused.
"""

from __future__ import annotations

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator, WebsocketDenier
from django.urls import path, re_path, reverse

from .consumer import RealtimeConsumer

__all__ = ["websocket_application"]


def websocket_application():
    """Call after Django is set up (e.g. after get_wsgi_application()): it reverses the URL."""
    socket_path = reverse("inbox:realtime").lstrip("/")
    routes = [path(socket_path, RealtimeConsumer.as_asgi()), re_path(r"", WebsocketDenier.as_asgi())]
    return AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(routes)))
