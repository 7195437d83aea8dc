"""Function-based views. Each renders a page, or for an htmx request the partial of that page
that changed; every action is a POST that redirects back when JavaScript is off."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from .api import notify
from .badge import badge_for
from .conf import inbox_setting
from .decorators import login_required, staff_required
from .forms import SendForm
from .models import Notification, parse_cursor

FILTER_CHOICES = [("unread", "Unread"), ("all", "All")]
FILTERS = tuple(value for value, _ in FILTER_CHOICES)
DEFAULT_FILTER = "all"  # what the dashboard shows without ?filter= (the service worker's too)
PLACES = ("dropdown", *FILTERS)  # where an action was clicked: what to send back


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


def back_url(show: str) -> str:
    """Where an action returns to without JavaScript (reversed once per page, not per form)."""
    return f"{reverse('inbox:index')}?filter={show}"


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
    return render(request, "inbox/bell.html#badge", {"inbox_badge": badge_for(request.user)})


@require_GET
@login_required
def dropdown(request):
    return render(request, "inbox/bell.html#dropdown", dropdown_context(request.user))


def dropdown_context(user) -> dict:
    rows = Notification.objects.for_user(user).visible().unread().select_related("message")
    return {"items": rows.newest_first()[: inbox_setting("DROPDOWN_SIZE")]}


def known_place(view):
    """Refuse an unknown `place` (what to answer with) before the action changes anything."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.POST.get("place", "all") not in PLACES:
            return HttpResponseBadRequest("Unknown place: use dropdown, all or unread.")
        return view(request, *args, **kwargs)

    return wrapper


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
def mark_read(request, pk):
    notification = own_notification(request, pk)
    notification.mark_read()
    return after_action(request, notification)


@require_POST
@login_required
@known_place
def mark_unread(request, pk):
    notification = own_notification(request, pk)
    notification.mark_unread()
    return after_action(request, notification)


@require_POST
@login_required
@known_place
def delete(request, pk):
    notification = own_notification(request, pk)
    notification.delete()
    return after_action(request, None)


@require_POST
@login_required
@known_place
def mark_all_read(request):
    Notification.objects.for_user(request.user).visible().mark_read()
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
        context = {"filter": place, **inbox_page(request.user, place)}
        html = render_to_string("inbox/index.html#list", context, request)
    elif notification is not None and (place == "all" or not notification.is_read):
        context = {"n": notification, "filter": place, "back_url": back_url(place)}
        html = render_to_string("inbox/index.html#item", context, request)
    else:
        html = ""  # the item left the list it was in
    badge_html = render_to_string(
        "inbox/bell.html#badge", {"inbox_badge": badge_for(request.user), "oob": True}, request
    )
    return HttpResponse(html + badge_html)


@require_http_methods(["GET", "POST"])
@staff_required
def send(request):
    """The staff send form: errors inline (htmx) or on the page (no JavaScript)."""
    form = SendForm(request.POST or None)
    sent = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            sent = notify(
                data["recipients"],
                data["message"],
                url=data["url"],
                level=data["level"],
                expires_at=data["expires_at"],
                actor=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if not request.htmx:
                messages.success(request, sent_text(sent.count))
                return redirect("inbox:send")
            form = SendForm()

    template = "inbox/send.html#form" if wants_partial(request) else "inbox/send.html"
    status = 422 if form.errors else 200
    return render(request, template, {"form": form, "sent": sent}, status=status)


def sent_text(count: int) -> str:
    return f"Sent to {count} recipient{'' if count == 1 else 's'}."
