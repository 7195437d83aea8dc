"""Endpoints for Web Push: saving and removing a browser's subscription (CSRF-protected, unlike
django-webpush's own save view), the service worker's "mark read", and the preferences page."""

from __future__ import annotations

import json

from django.core import signing
from django.db import transaction
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from webpush.models import PushInformation, SubscriptionInfo

from .decorators import login_required
from .models import Notification
from .push import InvalidSubscription, clean_subscription, push_configured
from .tasks import READ_TOKEN_SALT
from .throttle import rate_limited

READ_TOKEN_MAX_AGE = 90 * 24 * 3600  # a push older than this cannot mark anything read


def json_body(request):
    try:
        return json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InvalidSubscription("The request body is not JSON.") from None


def bad_request(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=400)


@require_GET
@login_required
def preferences(request):
    subscriptions = SubscriptionInfo.objects.filter(webpush_info__user=request.user).distinct()
    return render(
        request,
        "inbox/preferences.html",
        {"subscriptions": subscriptions.order_by("-id"), "push_available": push_configured()},
    )


@require_POST
@login_required
def subscribe(request):
    """Store this browser's PushSubscription for the user: JSON {"subscription": {...},
    "browser": "..."}. Saving the same endpoint again updates it (and moves it to this user)."""
    try:
        body = json_body(request)
        if not isinstance(body, dict):
            raise InvalidSubscription("The request body must be a JSON object.")
        fields = clean_subscription(body.get("subscription"))
    except InvalidSubscription as error:
        return bad_request(str(error))
    browser = str(body.get("browser") or "")[:100]
    user_agent = request.headers.get("User-Agent", "")[:500]
    with transaction.atomic():
        subscription = SubscriptionInfo.objects.filter(endpoint=fields["endpoint"]).first()
        created = subscription is None
        subscription = subscription or SubscriptionInfo(endpoint=fields["endpoint"])
        subscription.p256dh, subscription.auth = fields["p256dh"], fields["auth"]
        subscription.browser, subscription.user_agent = browser, user_agent
        subscription.save()
        PushInformation.objects.filter(subscription=subscription).exclude(user=request.user).delete()
        PushInformation.objects.get_or_create(subscription=subscription, user=request.user)
    return JsonResponse({"id": subscription.pk}, status=201 if created else 200)


@require_POST
@login_required
def unsubscribe(request):
    """Forget one of the user's subscriptions: JSON {"endpoint": ...} from the push toggle, or
    a form POST of subscription_id from the preferences page (no JavaScript needed)."""
    mine = SubscriptionInfo.objects.filter(webpush_info__user=request.user)
    if "subscription_id" in request.POST:
        subscription_id = request.POST["subscription_id"]
        if not subscription_id.isdigit():
            return HttpResponseBadRequest("subscription_id must be a number.")
        get_object_or_404(mine, pk=subscription_id).delete()
        return redirect("inbox:preferences")
    try:
        body = json_body(request)
    except InvalidSubscription as error:
        return bad_request(str(error))
    endpoint = body.get("endpoint") if isinstance(body, dict) else None
    if not isinstance(endpoint, str) or not endpoint:
        return bad_request("Give the endpoint of the subscription to remove.")
    deleted, _ = mine.filter(endpoint=endpoint).delete()
    return JsonResponse({"removed": bool(deleted)})


@csrf_exempt  # the service worker has no CSRF token; the signed token in the push is the proof
@rate_limited  # no login: a cap per address
@require_POST
def mark_read_from_push(request):
    try:
        body = json_body(request)
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str):
            raise signing.BadSignature
        notification_id = signing.loads(token, salt=READ_TOKEN_SALT, max_age=READ_TOKEN_MAX_AGE)
    except (InvalidSubscription, signing.BadSignature):
        return HttpResponseBadRequest("The token is missing, altered or too old.")
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification:
        notification.mark_read()
    return HttpResponse(status=204)


@csrf_exempt  # sent by the service worker; knowing the old endpoint (a secret URL) is the proof
@rate_limited  # no login: a cap per address
@require_POST
def renew(request):
    """pushsubscriptionchange: replace a stored subscription's endpoint and keys."""
    try:
        body = json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("old_endpoint"), str):
            raise InvalidSubscription("Give old_endpoint and subscription.")
        fields = clean_subscription(body.get("subscription"))
    except InvalidSubscription as error:
        return bad_request(str(error))
    updated = SubscriptionInfo.objects.filter(endpoint=body["old_endpoint"]).update(**fields)
    if not updated:
        return JsonResponse({"error": "No subscription has that old endpoint."}, status=404)
    return JsonResponse({"renewed": updated})
