"""The dashboard and the bell: each view renders a page, or for an htmx request the partial of
that page that changed."""

from __future__ import annotations

from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from inbox.badge import badge_for
from inbox.conf import inbox_setting
from inbox.models import Notification, parse_cursor
from inbox.push.keys import vapid_public_key

from .decorators import login_required
from .items import back_url

FILTER_CHOICES = [("unread", "Unread"), ("all", "All")]


FILTERS = tuple(value for value, _ in FILTER_CHOICES)


DEFAULT_FILTER = "all"  # what the dashboard shows without ?filter= (the service worker's too)


def wants_partial(request) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


@require_GET
@login_required
@vary_on_headers("HX-Request")
def index(request):
    """The dashboard: newest first, Unread / All, keyset paging ("load more")."""
    show = request.GET.get("filter", DEFAULT_FILTER)
    if show not in FILTERS:
        return HttpResponseBadRequest("Unknown filter: use filter=all or filter=unread.")
    after = request.GET.get("after")
    try:
        cursor = parse_cursor(after) if after else None
    except ValueError as error:
        return HttpResponseBadRequest(str(error))

    context = {"filter": show, "after": after, **inbox_page(request.user, show, cursor)}
    if wants_partial(request):
        template = "inbox/index.html#page" if after else "inbox/index.html#list"
    else:
        template = "inbox/index.html"
    return render(request, template, context)


def inbox_page(user, show: str, cursor=None) -> dict:
    size = inbox_setting("PAGE_SIZE")
    rows = Notification.objects.for_user(user).visible().select_related("message").newest_first()
    if show == "unread":
        rows = rows.unread()
    if cursor:
        rows = rows.before(cursor)
    items = list(rows[: size + 1])
    return {
        "filter_choices": FILTER_CHOICES,
        "back_url": back_url(show),
        "items": items[:size],
        "next_cursor": items[size - 1].cursor if len(items) > size else None,
    }


@require_GET
@login_required
def badge(request):
    return render(request, "inbox/bell.html#badge", badge_context(request.user))


def badge_context(user, **extra) -> dict:
    """What the badge partial needs when a view renders it alone."""
    return {
        "inbox_badge": badge_for(user),
        "inbox_poll_seconds": inbox_setting("BADGE_POLL_SECONDS"),
        **extra,
    }


@require_GET
@login_required
def dropdown(request):
    return render(request, "inbox/bell.html#dropdown", dropdown_context(request.user))


def dropdown_context(user) -> dict:
    rows = Notification.objects.for_user(user).visible().unread().select_related("message")
    return {
        "items": rows.newest_first()[: inbox_setting("DROPDOWN_SIZE")],
        "inbox_vapid_public_key": vapid_public_key(),  # for the push switch at its foot
    }
