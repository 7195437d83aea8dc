"""URLs without arguments, reversed once per process: reverse() takes 20 to 30 us, and every
dashboard page and socket URL asked for the same names again (the list's back URL, the socket's
path), a tenth of what the page costs on top of the login itself."""

from __future__ import annotations

from functools import lru_cache

from django.core.signals import setting_changed
from django.urls import get_script_prefix, get_urlconf, reverse

__all__ = ["path_for"]


def path_for(name: str) -> str:
    """reverse(name), for the active URL prefix and URLconf."""
    return _reverse(name, get_script_prefix(), get_urlconf())


@lru_cache(maxsize=128)
def _reverse(name: str, prefix: str, urlconf) -> str:
    return reverse(name, urlconf=urlconf)  # under `prefix`, the active one


def clear(**kwargs) -> None:
    _reverse.cache_clear()


setting_changed.connect(clear, dispatch_uid="inbox.web.paths.clear")
