"""WSGI entry point: gunicorn serves HTTP with it (`make run`, scripts/serve.sh, and production),
beside uvicorn serving the WebSockets with config/asgi.py."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()
