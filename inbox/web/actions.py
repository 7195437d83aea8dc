"""Mark read, mark unread, delete and mark all read: POSTs that answer htmx with the pieces that
changed (and the badge out of band), and redirect back when JavaScript is off."""

from __future__ import annotations

import re
from functools import wraps

from django.core.exceptions import BadRequest
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from inbox.models import Notification, announce_read
from inbox.signals import acting_tab, notification_changed

from .decorators import login_required
from .views import FILTERS, badge_context, dropdown_context, inbox_page, read_filters

PLACES = ("dropdown", *FILTERS)  # where an action was clicked: what to send back
ANNOUNCED_READ = 500  # ids a filtered "mark all as read" names to the user's other tabs


# What each item action does, and whether the item is still there to show afterwards.
ITEM_ACTIONS = {
    "read": (Notification.mark_read, True),
    "unread": (Notification.mark_unread, True),
    "delete": (Notification.delete, False),
}


def known_place(view):
    """Refuse an unknown `place` (what to answer with), kind or level before the action changes
    anything."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.POST.get("place", "all") not in PLACES:
            raise BadRequest("Unknown place: use dropdown, all or unread.")
        try:
            read_filters(request.POST)  # the dashboard's kind and level, kept by the answer
        except ValueError as error:
            raise BadRequest(str(error)) from None  # the site's 400 page shows it, escaped
        return view(request, *args, **kwargs)

    return wrapper


TAB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)


def from_tab(view):
    """Name the acting browser tab (its X-Inbox-Tab header) for the change announcements, so
    live pages update every tab but the one that acted (inbox.signals.acting_tab)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        tab = request.headers.get("X-Inbox-Tab", "")
        token = acting_tab.set(tab if TAB_ID.fullmatch(tab) else "")
        try:
            return view(request, *args, **kwargs)
        finally:
            acting_tab.reset(token)

    return wrapper


def announce_change(user_id: int, *, unread=(), deleted=()) -> None:
    """Send notification_changed once the change is committed (see inbox.signals)."""
    unread, deleted = tuple(unread), tuple(deleted)
    transaction.on_commit(
        lambda: notification_changed.send(
            sender=Notification, user_id=user_id, unread=unread, deleted=deleted
        ),
        robust=True,
    )


def own_notification(request, pk: int) -> Notification:
    """The user's own visible notification, or 404 (also for another user's id), whose message
    the error handler shows in place of the item."""
    rows = Notification.objects.for_user(request.user).visible().select_related("message")
    try:
        return rows.get(pk=pk)
    except Notification.DoesNotExist:
        raise Http404("That notification is gone: it was deleted or expired.") from None


@require_POST
@login_required
@known_place
@from_tab
def item_action(request, pk, action):
    """One view for the actions on an item; the URL names the action (see web/urls.py)."""
    act, stays = ITEM_ACTIONS[action]
    notification = own_notification(request, pk)
    was_read, notification_id = notification.is_read, notification.pk
    act(notification)
    if action == "unread" and was_read:
        announce_change(request.user.pk, unread=[notification_id])
    elif action == "delete":
        announce_change(request.user.pk, deleted=[notification_id])
    return after_action(request, notification if stays else None)


@require_POST
@login_required
@known_place
@from_tab
def mark_all_read(request):
    """Everything unread, or with the dashboard's kind or level filter only what it shows."""
    rows = Notification.objects.for_user(request.user).visible()
    filters = read_filters(request.POST)  # checked by @known_place
    if not any(filters.values()):
        if rows.mark_read():
            announce_read(request.user.pk, all_read=True)
        return after_action(request, None, whole_list=True)
    if filters["kind"]:
        rows = rows.filter(message__kind=filters["kind"])
    if filters["level"]:
        rows = rows.filter(message__level=filters["level"])
    now = timezone.now()
    if rows.mark_read(now):
        # The other tabs: the newest ones read (what pages show); their badges are counted anew.
        newest = rows.filter(read_at=now).newest_first().values_list("pk", flat=True)
        announce_read(request.user.pk, list(newest[:ANNOUNCED_READ]))
    return after_action(request, None, whole_list=True)


def safe_next(request) -> str:
    """The POSTed `next` if it is a path on this site, else the dashboard. Never a bare word:
    redirect() would try it as a view name (NoReverseMatch, a 500)."""
    next_url = request.POST.get("next", "")
    if next_url.startswith("/") and url_has_allowed_host_and_scheme(
        next_url, {request.get_host()}, request.is_secure()
    ):
        return next_url
    return reverse("inbox:index")


def after_action(request, notification, whole_list=False):
    """What an action answers: a redirect back without JavaScript; for htmx, the piece that
    changed (the dropdown, the list or the item) followed by the badge as an out-of-band swap."""
    if not request.htmx:
        return HttpResponseRedirect(safe_next(request))

    place = request.POST.get("place", "all")  # checked by @known_place
    if place == "dropdown":
        html = render_to_string("inbox/bell.html#dropdown", dropdown_context(request.user), request)
    elif whole_list:
        context = {"filter": place, **inbox_page(request.user, place, **read_filters(request.POST))}
        html = render_to_string("inbox/index.html#list", context, request)
    elif notification is not None and (place == "all" or not notification.is_read):
        context = {"n": notification, "filter": place, "back_url": safe_next(request)}
        html = render_to_string("inbox/index.html#item", context, request)
    else:
        html = ""  # the item left the list it was in
    badge_html = render_to_string("inbox/bell.html#badge", badge_context(request.user, oob=True), request)
    return HttpResponse(html + badge_html)
