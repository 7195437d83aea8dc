"""The real-time app's system checks, registered by its ready()."""

from __future__ import annotations

from importlib.util import find_spec

from django.apps import apps
from django.conf import settings
from django.core import checks

from inbox.checks import missing_extra

__all__ = [
    "check_realtime_libraries",
    "check_realtime_server",
    "libraries_installed",
    "realtime_server_problem",
]

LIBRARIES = ("channels",)
REDIS_LAYERS = "channels_redis."


def libraries_installed() -> bool:
    return not missing_extra("inbox.realtime", "realtime", LIBRARIES)


@checks.register()
def check_realtime_libraries(app_configs, **kwargs):
    """Django Channels (the [realtime] extra), and channels-redis (the [redis] extra) when
    CHANNEL_LAYERS names one of its layers."""
    errors = missing_extra("inbox.realtime", "realtime", LIBRARIES)
    layers = getattr(settings, "CHANNEL_LAYERS", {}) or {}
    if any(str(layer.get("BACKEND", "")).startswith(REDIS_LAYERS) for layer in layers.values()):
        errors += missing_extra("CHANNEL_LAYERS' channels-redis layer", "redis", ("channels_redis",))
    return errors


ASGI_SERVERS = ("uvicorn", "daphne", "hypercorn")
REALTIME_WAYS_OUT = (
    "Serve the socket with an ASGI server (uvicorn or daphne) running an ASGI_APPLICATION that "
    'routes "websocket" to inbox.realtime.asgi.websocket_application() (README, "Real time"), or '
    'remove "inbox.realtime" from INSTALLED_APPS: pages then poll, and open no socket.'
)


@checks.register()
def check_realtime_server(app_configs, **kwargs):
    """Real time is on but nothing can serve its socket: each page then fails to open it (the
    browser logs each try) before polling. Said here, with the two ways out. Registered once this
    module is imported, so it asks whether the app is installed."""
    if not apps.is_installed("inbox.realtime"):
        return []
    problem = realtime_server_problem()
    return [checks.Warning(problem, hint=REALTIME_WAYS_OUT, id="inbox.W003")] if problem else []


def realtime_server_problem() -> str:
    """Why no ASGI server could serve the page's socket, or "" when one can. The application is
    not imported here: building it (a WSGI handler inside, for HTTP) is a server's start-up, not a
    check's; that it routes "websocket" is the README's ASGI file."""
    path = getattr(settings, "ASGI_APPLICATION", None)
    on = "Real time (inbox.realtime) is on, but"
    if not path:
        return f"{on} ASGI_APPLICATION is not set: no server serves its socket."
    if not any(find_spec(name) for name in ASGI_SERVERS):
        return f"{on} no ASGI server ({', '.join(ASGI_SERVERS)}) is installed to serve its socket."
    return ""
