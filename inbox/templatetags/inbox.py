"""Template tags for the host's base template:

{% load inbox %}
<head> ... {% inbox_head %} </head>       the app's styles, scripts, manifest and settings
<header> ... {% inbox_bell %} </header>   the bell, its badge and dropdown (logged-in users)
and, for the app's own templates, {% inbox_item n %}: one notification's HTML (inbox.web.items).
"""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from inbox import assets
from inbox.badge import badge_for
from inbox.conf import inbox_setting
from inbox.push.keys import vapid_public_key
from inbox.pwa.views import SAVED_HEADER
from inbox.web.items import item_html

register = template.Library()


@register.inclusion_tag("inbox/head.html", takes_context=True)
def inbox_head(context) -> dict:
    return {
        "csrf_token": context.get("csrf_token"),
        "service_worker_url": reverse(inbox_setting("SERVICE_WORKER")),
        "saved_header": SAVED_HEADER,
        "styles": assets.STYLES,
        "scripts": assets.SCRIPTS,
        "icon_svg": assets.ICON_SVG,
        "touch_icon": assets.ICON.format(size=192),
    }


@register.inclusion_tag("inbox/bell.html#bell", takes_context=True)
def inbox_bell(context) -> dict:
    """The bell for a logged-in user (nothing for anyone else); the badge is counted only here."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    return {
        "show": True,
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "inbox_badge": SimpleLazyObject(lambda: badge_for(user)),  # counted only if rendered
        "inbox_poll_seconds": inbox_setting("BADGE_POLL_SECONDS"),
        "inbox_vapid_public_key": vapid_public_key(),
        "inbox_socket_url": socket_url(),
    }


def socket_url() -> str:
    """Where the page's real-time socket connects (inbox/live.html); "" when the site does not
    serve inbox.realtime (the page then polls)."""
    if "inbox.realtime" not in inbox_setting("CHANNELS"):
        return ""
    return reverse("inbox:realtime")


@register.simple_tag(takes_context=True)
def inbox_item(context, notification, place=None):
    """{% inbox_item n %} (place: the context's filter) or {% inbox_item n "dropdown" %}: one
    item's HTML from its partial, rendered once per process and reused (inbox/web/items.py)."""
    return item_html(notification, place or context["filter"], context.get("csrf_token"))
