"""The app's static files, named once: the page's head (the {% inbox_head %} tag) and the service
worker's precached app shell both read these lists."""

from __future__ import annotations

HTMX = "inbox/vendor/htmx-4.0.1.min.js"
STYLES = ["inbox/inbox.css"]
HX_WS = "inbox/vendor/hx-ws-4.0.1.min.js"  # htmx's WebSocket extension, after htmx itself
SCRIPTS = [
    HTMX,
    HX_WS,
    "inbox/bell.js",
    "inbox/pwa.js",
    "inbox/push.js",
    "inbox/errors.js",
    "inbox/poll.js",
    "inbox/realtime.js",
    "inbox/announce.js",
    "inbox/focus.js",
]
ICON_SVG = "inbox/icons/icon.svg"
ICON = "inbox/icons/icon-{size}.png"
MASKABLE_ICON = "inbox/icons/maskable-512.png"
BADGE_ICON = "inbox/icons/badge-72.png"
ICONS = [ICON_SVG, ICON.format(size=192), ICON.format(size=512), BADGE_ICON]
SHELL = [*STYLES, *SCRIPTS, *ICONS]  # precached when the service worker installs
# The service worker's handlers: a script with placeholders that pwa.views.handlers fills in.
WORKER_HANDLERS = "inbox/sw.js"
