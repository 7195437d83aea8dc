"""The URL modules of the apps of Inbox, registered from their AppConfig.ready() (once their
libraries are there: an app listed without its extra adds none, and `check` names the extra):
inbox/urls.py includes those of the installed apps, under the app's prefix."""

from __future__ import annotations

from django.apps import apps

__all__ = ["installed", "register"]

_urls: dict[str, tuple[str, str]] = {}  # app name -> (prefix, URL module)


def register(app: str, prefix: str, module: str) -> None:
    """Include `module` at `prefix` ("" for the app's own prefix) while `app` is installed."""
    _urls[app] = (prefix, module)


def installed() -> list[tuple[str, str]]:
    """(prefix, module) of the installed apps, in INSTALLED_APPS' order."""
    return [_urls[config.name] for config in apps.get_app_configs() if config.name in _urls]
