"""What the other apps of Inbox add to the web UI's pages, registered from their
AppConfig.ready(): the web UI then imports none of them and names none of their templates, and
shows a part only while its app is installed. Each part is a template of the app's own and a
function that gives it its variables.

- The bell: `add_to_bell(app, template, provide)`: `template` is included at the foot of the
  bell's dropdown (push: its switch), `provide()` gives its variables.
- The preferences page: `add_to_preferences(app, template, provide, in_form=...)`:
  `provide(user, form)` gives the template's variables. With `in_form=True` the template is part
  of the preferences form, which an htmx save swaps in again (mail: the digest's schedule);
  otherwise it follows the form (push: the browsers receiving push).
- The page's head: `add_to_head(app, provide)`, where `provide()` returns the head's variables
  (pwa: the manifest and the service worker; inbox/head.html reads them). The head is rendered
  once per process (inbox.web.fragments), so what `provide()` returns must be the same for every
  user. `add_scripts(app, paths)`: the app's static scripts, loaded (deferred) by every page and
  precached by the service worker (inbox.web.assets).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps

__all__ = [
    "add_scripts",
    "add_to_bell",
    "add_to_head",
    "add_to_preferences",
    "bell_extras",
    "head_extras",
    "preferences_extras",
    "scripts",
]

# What inbox/head.html reads when no app provides it: no manifest, no service worker.
HEAD_DEFAULTS = {"pwa": False, "service_worker_url": "", "saved_header": ""}


@dataclass(frozen=True)
class Part:
    template: str
    provide: Callable
    in_form: bool = False


# app name -> what it adds (registering again, as ready() may in tests, replaces it)
_bell: dict[str, Part] = {}
_preferences: dict[str, Part] = {}
_head: dict[str, Callable[[], dict]] = {}
_scripts: dict[str, tuple[str, ...]] = {}


def add_to_bell(app: str, template: str, provide: Callable[[], dict]) -> None:
    _bell[app] = Part(template, provide)


def add_to_preferences(app: str, template: str, provide: Callable, *, in_form: bool = False) -> None:
    _preferences[app] = Part(template, provide, in_form)


def add_to_head(app: str, provide: Callable[[], dict]) -> None:
    _head[app] = provide


def add_scripts(app: str, paths: list[str]) -> None:
    _scripts[app] = tuple(paths)


def bell_extras() -> dict:
    """The dropdown's foot: "bell_parts", the templates it includes, and their variables."""
    parts = _installed(_bell)
    return _merged({"bell_parts": [part.template for part in parts]}, (part.provide() for part in parts))


def preferences_extras(user, form, *, whole_page: bool) -> dict:
    """ "form_parts" (inside the form), "page_parts" (after it, on the whole page only) and their
    variables."""
    parts = [part for part in _installed(_preferences) if whole_page or part.in_form]
    context = {
        "form_parts": [part.template for part in parts if part.in_form],
        "page_parts": [part.template for part in parts if not part.in_form],
    }
    return _merged(context, (part.provide(user, form) for part in parts))


def head_extras() -> dict:
    parts = (provide() for app, provide in _head.items() if apps.is_installed(app))
    return _merged(dict(HEAD_DEFAULTS), parts)


def scripts() -> list[str]:
    """The installed apps' scripts, app by app in INSTALLED_APPS' order."""
    return [path for config in apps.get_app_configs() for path in _scripts.get(config.name, ())]


def _installed(registry: dict) -> list:
    """The parts of the installed apps, in INSTALLED_APPS' order."""
    return [registry[config.name] for config in apps.get_app_configs() if config.name in registry]


def _merged(context: dict, parts) -> dict:
    """`context` (a new dict) updated with each part."""
    for part in parts:
        context |= part
    return context
