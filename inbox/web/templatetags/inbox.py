"""Template tags for the host's base template:

{% load inbox %}
<head> ... {% inbox_head %} </head>       the app's styles, scripts, manifest and settings
<header> ... {% inbox_bell %} </header>   the bell, its badge and dropdown (logged-in users)
and, for the app's own templates, {% inbox_items items %}: the notifications' HTML (inbox.web.items).

{% inbox_fragment "page.html#part" name=value ... %} renders a partial that every request of a
given shape shows alike once per process (a site's base template may use it too).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django import template
from django.apps import apps
from django.http.request import split_domain_port
from django.urls import reverse
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from inbox.badge import Badge, badge_for
from inbox.conf import inbox_setting
from inbox.web import assets, extensions, fragments
from inbox.web.items import items_html

register = template.Library()


@register.simple_tag(takes_context=True)
def inbox_head(context):
    """inbox/head.html, rendered once per process (inbox.web.fragments): only the CSRF token
    differs between two pages."""
    worker = inbox_setting("SERVICE_WORKER")
    key = (worker, tuple(assets.STYLES), tuple(assets.scripts()))
    return fragments.partial("inbox/head.html", key, head_context, context.get("csrf_token"))


def head_context() -> dict:
    """The manifest and the service worker come from inbox.pwa (inbox.web.extensions): without
    it, pages work online only."""
    return {
        **extensions.head_extras(),
        "styles": assets.STYLES,
        "scripts": assets.scripts(),
        "icon_svg": assets.ICON_SVG,
        "touch_icon": assets.ICON.format(size=192),
    }


@register.simple_tag(takes_context=True)
def inbox_bell(context):
    """The bell for a logged-in user (nothing for anyone else), rendered once per process for
    each badge count (inbox.web.fragments). The badge is counted here, unless the view has
    counted it already (the context's "inbox_badge": the dashboard reads it with its rows)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    badge = context.get("inbox_badge")
    if not isinstance(badge, Badge):
        badge = badge_for(user)
    poll_seconds = inbox_setting("BADGE_POLL_SECONDS")
    socket = socket_url(request)
    staff = bool(user.is_staff)  # the dropdown links staff to the send form
    return fragments.partial(
        "inbox/bell.html#bell",
        (badge, poll_seconds, socket, staff),
        lambda: bell_context(badge, poll_seconds, socket, staff),
        context.get("csrf_token"),
    )


def bell_context(badge, poll_seconds: int, socket: str, staff: bool = False) -> dict:
    """What the bell partial shows; all but the badge (and the staff's link) is the same on
    every page of a host. Without inbox.push, no push switch."""
    return {
        "show": True,
        "inbox_badge": badge,
        "inbox_poll_seconds": poll_seconds,
        **extensions.bell_extras(),
        "inbox_socket_url": socket,
        "staff": staff,
    }


def socket_url(request) -> str:
    """Where the page's real-time socket connects (inbox/live.html); "" when the site does not
    serve inbox.realtime (the page then polls). By default the socket's path on the page's own
    origin (a reverse proxy routes it to the ASGI server); with INBOX_SOCKET_PORT, that port on
    the host the page was loaded from (`make run`: HTTP and sockets on two ports, no proxy)."""
    if not apps.is_installed("inbox.realtime"):
        return ""
    path = reverse("inbox:realtime")
    port = inbox_setting("SOCKET_PORT")
    if port is None:
        return path
    host, _ = split_domain_port(request.get_host())  # validated against ALLOWED_HOSTS
    return f"{'wss' if request.is_secure() else 'ws'}://{host}:{int(port)}{path}"


@register.simple_tag(takes_context=True)
def inbox_fragment(context, template_name, **values):
    """The partial `template_name` rendered with these values and the CSRF token only (no
    request, no context processors), once per process for each set of values
    (inbox.web.fragments). The values are the key and all the partial sees (but for what the
    cache follows: URLs, static files, language, settings), so it cannot show anything stale;
    they are plain data (str, int, bool, None, lists and tuples of them), never a time, so the
    time zone does not matter."""
    key = fragments.frozen_values(values)
    return fragments.partial(template_name, key, lambda: values, context.get("csrf_token"))


@register.filter
def inbox_nbsp(text):
    """The text escaped, with its no-break spaces written as &nbsp; (naturaltime puts one between
    a number and its unit): the same HTML, but a page whose text is ASCII stays ASCII, which
    Python encodes by copying it instead of converting every character."""
    return mark_safe(conditional_escape(text).replace("\xa0", "&nbsp;"))


LINK_LABEL_MAX = 48  # characters of a link's label; a longer path keeps its start and its end


@register.filter
def inbox_link_label(url: str) -> str:
    """A readable label for a link shown as text: host (and a port other than the scheme's) and
    path, without the scheme, the query and the fragment ("ci.example.com/builds/1234"), a site
    path as it is. A long label is shortened in its path only, in the middle ("ci.example.com/
    very/lo…/build/1234"): the whole host always shows, so a cut cannot hide which site the link
    goes to ("bank.example.com.attacker.net" never reads "bank.example.com…"). Spelling out a
    raw URL made a screen reader read every character of its query."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # not a port number: show the address as it is
        port = None
    default = {"http": 80, "https": 443}.get(parts.scheme)
    host = (parts.hostname or "") + (f":{port}" if port and port != default else "")
    path = parts.path.rstrip("/") if host else parts.path.rstrip("/") or parts.path
    if not host and not path:
        return url
    room = max(LINK_LABEL_MAX - len(host), 8)
    if len(path) > room:
        keep = room - 1
        path = f"{path[: keep - keep // 2]}…{path[-(keep // 2) :]}"
    return host + path


@register.simple_tag(takes_context=True)
def inbox_items(context, notifications, place=None):
    """{% inbox_items items %} (place: the context's filter) or {% inbox_items items "dropdown" %}:
    the items' HTML, each from its partial, rendered once per process and reused
    (inbox/web/items.py); {% inbox_item n %} is the same for one. A dashboard list's items
    carry its back URL: the context's filter, kind and level."""
    return items_html(
        notifications, place or context["filter"], context.get("csrf_token"), **_filters(context)
    )


@register.simple_tag(takes_context=True)
def inbox_item(context, notification, place=None):
    return items_html(
        [notification], place or context["filter"], context.get("csrf_token"), **_filters(context)
    )


def _filters(context) -> dict:
    return {"kind": context.get("kind") or "", "level": context.get("level") or ""}
