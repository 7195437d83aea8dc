"""What the other apps of Inbox add to the web UI's pages, registered from their
AppConfig.ready(): the web UI then imports none of them, and shows a part only when its app is
installed.

Each is registered with the app that provides it, and used only while that app is installed.

- The bell: `add_to_bell(app, provide)`, where `provide()` returns template variables the bell and its
  dropdown read (push: its switch). The bell is rendered once per process and badge count
  (inbox.web.fragments), so what `provide()` returns must be the same for every user.
- The preferences page: `add_to_preferences(app, provide, in_form=...)`, where `provide(user, form)`
  returns template variables of the page (mail: the address and the next digest; push: the
  browsers receiving push). With `in_form=True` they are also given to the form's partial, which
  an htmx save swaps in; otherwise only to the whole page.
- The page's head: `add_to_head(app, provide)`, where `provide()` returns the head's variables (pwa:
  the service worker and the manifest). Rendered once per process too. `add_scripts(app, paths)`:
  the app's static scripts, loaded (deferred) by every page after htmx, and precached by the
  service worker (inbox.web.assets).
"""

from __future__ import annotations

from collections.abc import Callable

from django.apps import apps

__all__ = [
    "add_to_bell",
    "add_to_head",
    "add_to_preferences",
    "add_scripts",
    "bell_extras",
    "head_extras",
    "preferences_extras",
    "scripts",
]

# What each template reads when no app provides it: the part is then left out.
BELL_DEFAULTS = {"inbox_push": False, "inbox_vapid_public_key": ""}
HEAD_DEFAULTS = {"pwa": False, "service_worker_url": "", "saved_header": ""}
PREFERENCES_DEFAULTS = {"mail": False, "push": False}

# app name -> its provider (registering again, as ready() may in tests, replaces it)
_bell: dict[str, Callable[[], dict]] = {}
_head: dict[str, Callable[[], dict]] = {}
_preferences: dict[str, tuple[Callable, bool]] = {}
_scripts: dict[str, tuple[str, ...]] = {}


def add_to_bell(app: str, provide: Callable[[], dict]) -> None:
    _bell[app] = provide


def add_to_head(app: str, provide: Callable[[], dict]) -> None:
    _head[app] = provide


def add_to_preferences(app: str, provide: Callable, *, in_form: bool = False) -> None:
    _preferences[app] = (provide, in_form)


def add_scripts(app: str, paths: list[str]) -> None:
    _scripts[app] = tuple(paths)


def scripts() -> list[str]:
    """The installed apps' scripts, app by app in INSTALLED_APPS' order."""
    return [path for config in apps.get_app_configs() for path in _scripts.get(config.name, ())]


def bell_extras() -> dict:
    return _merged(BELL_DEFAULTS, (provide() for app, provide in _bell.items() if apps.is_installed(app)))


def head_extras() -> dict:
    return _merged(HEAD_DEFAULTS, (provide() for app, provide in _head.items() if apps.is_installed(app)))


def preferences_extras(user, form, *, whole_page: bool) -> dict:
    parts = (
        provide(user, form)
        for app, (provide, in_form) in _preferences.items()
        if (whole_page or in_form) and apps.is_installed(app)
    )
    return _merged(PREFERENCES_DEFAULTS, parts)


def _merged(defaults: dict, parts) -> dict:
    context = dict(defaults)
    for part in parts:
        context |= part
    return context
