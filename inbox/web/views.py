"""The dashboard and the bell: each view renders a page, or for an htmx request the partial of
that page that changed."""

from __future__ import annotations

from django.core.exceptions import BadRequest, ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from inbox import kinds
from inbox.badge import Badge, badge_count_limit, badge_for
from inbox.conf import inbox_setting
from inbox.models import Level, parse_cursor

from . import extensions, fragments
from .decorators import login_required
from .items import back_url, query
from .rows import newest_rows, newest_rows_and_unread

FILTER_CHOICES = [("unread", "Unread"), ("all", "All")]


FILTERS = tuple(value for value, _ in FILTER_CHOICES)


DEFAULT_FILTER = "all"  # what the dashboard shows without ?filter= (the service worker's too)


def tabs(kind: str, level: str) -> list:
    """The Unread / All tabs: (filter, label, its query string) for these kind and level filters."""
    return [(value, label, query(value, kind, level)) for value, label in FILTER_CHOICES]


def wants_partial(request) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def read_filters(params) -> dict:
    """The dashboard's `kind` and `level` filters from GET (or an action's POST): "" for any;
    ValueError with a message for one that is not registered."""
    kind, level = params.get("kind", ""), params.get("level", "")
    if kind:
        try:
            kinds.get(kind)
        except ValidationError as error:
            raise ValueError(error.messages[0]) from None
    if level and level not in Level.values:
        raise ValueError(f"Unknown level: use one of {', '.join(Level.values)}.")
    return {"kind": kind, "level": level}


@require_GET
@login_required
@vary_on_headers("HX-Request")
def index(request):
    """The dashboard: newest first, Unread / All, by kind and level, keyset paging ("load more")."""
    show = request.GET.get("filter", DEFAULT_FILTER)
    if show not in FILTERS:
        raise BadRequest("Unknown filter: use filter=all or filter=unread.")
    after = request.GET.get("after")
    try:
        filters = read_filters(request.GET)
        cursor = parse_cursor(after) if after else None
    except ValueError as error:
        raise BadRequest(str(error)) from None  # the site's 400 page shows it, escaped

    if wants_partial(request):
        template = "inbox/index.html#page" if after else "inbox/index.html#list"
    else:
        template = "inbox/index.html"
    whole_page = template == "inbox/index.html"  # with the bell: its badge comes with the rows
    page = inbox_page(request.user, show, cursor, **filters, with_badge=whole_page)
    return render(request, template, {"filter": show, "after": after, **page})


def inbox_page(
    user, show: str, cursor=None, *, kind: str = "", level: str = "", with_badge: bool = False
) -> dict:
    """What the list shows; `with_badge` adds the user's badge ("inbox_badge", for the page's
    bell), counted in the rows' query (unless the page is empty: then the bell counts)."""
    size = inbox_setting("PAGE_SIZE")
    filters = {"unread": show == "unread", "cursor": cursor, "kind": kind, "level": level}
    if with_badge:
        items, unread = newest_rows_and_unread(user, size + 1, count_to=badge_count_limit(), **filters)
    else:
        items, unread = newest_rows(user, size + 1, **filters), None
    badge = {} if unread is None else {"inbox_badge": Badge(count=unread, limit=inbox_setting("BADGE_MAX"))}
    return badge | {
        "tabs": tabs(kind, level),
        "kind": kind,
        "level": level,
        "kind_choices": kinds.choices(),
        "level_choices": Level.choices,
        "query": query(show, kind, level),
        "back_url": back_url(show, kind, level),
        "items": items[:size],
        "next_cursor": items[size - 1].cursor if len(items) > size else None,
    }


@require_GET
@login_required
def badge(request):
    return HttpResponse(badge_html(request.user))


def badge_html(user, *, oob: bool = False) -> str:
    """The badge partial for `user`: one count query; the HTML is rendered once per count."""
    badge, poll_seconds = badge_for(user), inbox_setting("BADGE_POLL_SECONDS")
    context = {"inbox_badge": badge, "inbox_poll_seconds": poll_seconds, "oob": oob}
    return fragments.partial("inbox/bell.html#badge", (badge, poll_seconds, oob), lambda: context)


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
    return {
        "items": newest_rows(user, inbox_setting("DROPDOWN_SIZE"), unread=True),
        **extensions.bell_extras(),  # the push switch at its foot, with inbox.push
    }
