"""ASGI entry point: uvicorn serves the real-time WebSockets with it (`make run`, scripts/serve.sh;
in production behind a proxy that sends it only the socket's path), while gunicorn serves HTTP
(config/wsgi.py), about a fifth faster per request than any ASGI server here.

WebSockets go to the inbox's real-time socket (inbox.realtime.asgi). HTTP still works, for a
deployment with one server only: it goes to Django's WSGI handler through a2wsgi's
WSGIMiddleware (Django's own ASGI handler costs a thread hop and more per request). Lifespan
events are answered by uvicorn's defaults.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from a2wsgi import WSGIMiddleware  # noqa: E402
from channels.routing import ProtocolTypeRouter  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

django_http = get_wsgi_application()  # sets Django up first: the socket's routes reverse URLs

from inbox.realtime.asgi import websocket_application  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": WSGIMiddleware(django_http),
        "websocket": websocket_application(),
    }
)
