"""The real-time app's system checks, registered by its ready()."""

from __future__ import annotations

from django.conf import settings
from django.core import checks

from inbox.checks import missing_extra

__all__ = ["check_realtime_libraries", "libraries_installed"]

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
