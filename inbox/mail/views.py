"""The pages an email's links open, without login (the signed token is the proof): one-click
unsubscribe (RFC 8058) and "mark as read". A GET only shows a page with a button; the POST acts,
so a mail scanner that follows links changes nothing."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import BadRequest, ValidationError
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from inbox import kinds
from inbox.models import Notification
from inbox.preferences import DigestSetting, set_choice
from inbox.throttle import rate_limited

from .tokens import DIGEST, BadToken, read_read, read_unsubscribe

ALTERED = "This link is not valid: it was cut short or altered. Use the link in the email as it is."


@csrf_exempt  # RFC 8058: the mailbox provider POSTs it, with no CSRF token; the signed token is the proof
@rate_limited  # no login: a cap per address
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET: a page with an Unsubscribe button. POST (the button, or the provider's one-click
    "List-Unsubscribe=One-Click"): turn this kind's email (or the digest) off; idempotent."""
    try:
        wish = read_unsubscribe(token)
    except BadToken:
        raise BadRequest(ALTERED) from None
    user = get_user_model()._default_manager.filter(pk=wish.user_id).first()
    if user is None:
        raise Http404("This account no longer exists.")
    if wish.channel == DIGEST:
        what = "email digests"
    else:
        try:
            kind = kinds.get(wish.kind)
        except ValidationError:
            raise Http404("This kind of notification no longer exists: nothing is sent for it.") from None
        what = f"emails about “{kind.label}”"
    context = {"what": what, "done": False, "preferences_url": reverse("inbox:preferences")}
    if request.method == "POST":
        if wish.channel == DIGEST:
            off = DigestSetting.Frequency.OFF
            DigestSetting.objects.filter(user=user).update(frequency=off, next_due_at=None)
        elif not set_choice(user, kind.key, "email", False):
            raise BadRequest(kind.locked("email") or f"{kind.label} cannot be turned off.")
        context["done"] = True
    return render(request, "inbox/mail/unsubscribe.html", context)


@rate_limited  # no login: a cap per address
@never_cache
@require_http_methods(["GET", "POST"])
def mark_read(request, token: str):
    """GET: the notification and a "Mark as read" button; POST (with the page's CSRF token):
    mark it read. The token names the user and the notification: it reads no other."""
    try:
        proof = read_read(token)
    except BadToken:
        raise BadRequest(f"{ALTERED} Links to mark as read work for a limited time.") from None
    notification = (
        Notification.objects.select_related("message")
        .filter(pk=proof.notification_id, recipient_id=proof.user_id)
        .first()
    )
    if notification is None:
        raise Http404("This notification was deleted.")
    if request.method == "POST":
        notification.mark_read()
    return render(
        request,
        "inbox/mail/read.html",
        {
            "notification": notification,
            "link": notification.message.url or reverse("inbox:index"),
            "inbox_url": reverse("inbox:index"),
        },
    )
