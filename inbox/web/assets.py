"""The static files of every page, named once: the page's head (the {% inbox_head %} tag) and
the service worker's precached app shell (inbox.pwa) both read them. The web UI's own, and the
scripts the installed apps add (inbox.web.extensions.add_scripts: real time's socket, the
installable app's, push's switch)."""

from __future__ import annotations

from . import extensions

__all__ = ["BADGE_ICON", "ICON", "ICONS", "ICON_SVG", "MASKABLE_ICON", "STYLES", "scripts", "shell"]

HTMX = "inbox/vendor/htmx-4.0.1.min.js"
STYLES = ["inbox/inbox.css"]
OWN_SCRIPTS = ["inbox/bell.js", "inbox/errors.js", "inbox/poll.js", "inbox/announce.js", "inbox/focus.js"]
ICON_SVG = "inbox/icons/icon.svg"
ICON = "inbox/icons/icon-{size}.png"
MASKABLE_ICON = "inbox/icons/maskable-512.png"
BADGE_ICON = "inbox/icons/badge-72.png"
ICONS = [ICON_SVG, ICON.format(size=192), ICON.format(size=512), BADGE_ICON]


def scripts() -> list[str]:
    """htmx, the web UI's own scripts, then the installed apps' scripts (in INSTALLED_APPS'
    order; an htmx extension among them registers before htmx starts, at DOMContentLoaded, as
    every script is deferred)."""
    return [HTMX, *OWN_SCRIPTS, *extensions.scripts()]


def shell() -> list[str]:
    """What the service worker precaches when it installs."""
    return [*STYLES, *scripts(), *ICONS]
