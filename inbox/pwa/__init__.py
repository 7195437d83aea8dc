"""The installable app: the service worker's handlers, the manifest, the offline page, and the
privacy headers that keep the worker's offline copies one user's."""

from __future__ import annotations


def ready() -> None:
    from . import privacy

    privacy.connect_signals()
