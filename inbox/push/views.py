"""Endpoints for Web Push: saving, checking and removing a browser's subscription (CSRF-protected,
unlike django-webpush's own save view), the service worker's renewal and "mark read".

Every JSON endpoint reads its body through `read_json`: sent as application/json, at most
BODY_MAX_BYTES, UTF-8, a JSON object; anything else is a 4xx with {"error": "..."}, never a 500."""

from __future__ import annotations

import json
import re
import unicodedata

from django.core import signing
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from webpush.models import PushInformation, SubscriptionInfo

from inbox.models import Notification
from inbox.throttle import rate_limited
from inbox.web.decorators import login_required

from . import session
from .endpoints import clean_endpoint
from .keys import InvalidSubscription
from .subscriptions import clean_subscription, secrets_match
from .tokens import notification_id

BODY_MAX_BYTES = 4096  # a subscription is about 400 bytes


BROWSER_MAX_LENGTH = 100  # django-webpush's SubscriptionInfo.browser


USER_AGENT_MAX_LENGTH = 500  # django-webpush's SubscriptionInfo.user_agent


SUBSCRIPTION_ID = re.compile(r"[0-9]{1,18}", re.ASCII)  # "²".isdigit() is True, int("²") fails


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


NOT_YOURS = "This browser's push subscription belongs to another account."


UNVERIFIED = "The old subscription could not be verified."


DUMMY_AUTH = "AAAAAAAAAAAAAAAAAAAAAA"  # compared against when the endpoint is unknown


class Refused(Exception):
    """Input the endpoint refuses; `status` is the 4xx to answer (answered here as JSON, unlike
    django.core.exceptions.BadRequest, which goes to the site's 400 page)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def check_body_size(request) -> None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0  # Django reads no body then
    if length > BODY_MAX_BYTES:
        raise Refused(f"The request body is larger than {BODY_MAX_BYTES} bytes.", 413)


def read_json(request) -> dict:
    """The request's body as a JSON object, or Refused (413 when too large, 415 when not sent as
    JSON)."""
    check_body_size(request)  # before the body is read
    if request.content_type != "application/json":
        # Checked before request.body: a form's stream may already be parsed (the CSRF middleware
        # reads request.POST), and then request.body raises RawPostDataException, a 500.
        raise Refused("The request body must be JSON (Content-Type: application/json).", 415)
    body = request.body
    if len(body) > BODY_MAX_BYTES:
        raise Refused(f"The request body is larger than {BODY_MAX_BYTES} bytes.", 413)
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise Refused("The request body is not UTF-8.") from None
    except RecursionError:
        raise Refused("The request body's JSON is nested too deeply.") from None
    except ValueError:  # invalid JSON, or a number longer than Python converts
        raise Refused("The request body is not JSON.") from None
    if not isinstance(data, dict):
        raise Refused("The request body must be a JSON object.")
    return data


def has_control_characters(text: str) -> bool:
    """Control, format, surrogate, private-use or unassigned characters (NUL among them)."""
    return any(unicodedata.category(c).startswith("C") for c in text)


def clean_browser(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Refused("browser must be a string.")
    if has_control_characters(value):  # the page sends it: bad input is refused, not mended
        raise Refused("browser must not contain control characters.")
    return value[:BROWSER_MAX_LENGTH]


def clean_user_agent(value: str) -> str:
    # A header we merely record (the page did not choose it): strip what cannot be stored, never refuse.
    return "".join(c for c in value if not unicodedata.category(c).startswith("C"))[:USER_AGENT_MAX_LENGTH]


def clean_secret(value, name: str) -> str | None:
    """An optional auth secret from the body: absent is None, anything but a string is refused."""
    if value is None or isinstance(value, str):
        return value
    raise Refused(f"{name} must be a string.")


class Conflict(Exception):
    pass


def save_subscription(user, fields: dict, browser: str, user_agent: str) -> tuple[SubscriptionInfo, bool]:
    """Store the subscription for `user`, or raise Conflict if another user owns its endpoint.
    Safe under concurrency: the unique indexes on the endpoint and on the owner (migration 0002)
    make every concurrent save of one endpoint end with one row and one owner."""
    with transaction.atomic():
        details = {"browser": browser, "user_agent": user_agent}
        subscription, created = SubscriptionInfo.objects.get_or_create(
            endpoint=fields["endpoint"], defaults={**fields, **details}
        )
        owner, _ = PushInformation.objects.get_or_create(subscription=subscription, defaults={"user": user})
        if owner.user_id != user.pk:
            raise Conflict
        if not created:
            SubscriptionInfo.objects.filter(pk=subscription.pk).update(**fields, **details)
    return subscription, created


@require_POST
@login_required
def subscribe(request):
    """Store this browser's PushSubscription for the user: JSON {"subscription": {...},
    "browser": "..."}. 201 when new, 200 when the same user saves it again (keys updated),
    409 when the endpoint belongs to another user (it is never moved silently)."""
    try:
        body = read_json(request)
        browser = clean_browser(body.get("browser"))
        fields = clean_subscription(body.get("subscription"))
    except (Refused, InvalidSubscription) as problem:
        return error(str(problem), getattr(problem, "status", 400))
    user_agent = clean_user_agent(request.headers.get("User-Agent", ""))
    try:
        with transaction.atomic():
            subscription, created = save_subscription(request.user, fields, browser, user_agent)
            session.bind(request, subscription.pk)  # push ends when this session does
    except (Conflict, IntegrityError):
        return error(NOT_YOURS, 409)
    return JsonResponse({"id": subscription.pk}, status=201 if created else 200)


@require_POST
@login_required
def check(request):
    """Whether this browser's subscription (JSON {"endpoint", "auth"}) is stored for the
    current user: {"mine": true|false}. The page asks on load, so its switch shows the
    current user's state and a previous user's subscription is released."""
    try:
        body = read_json(request)
        endpoint = clean_endpoint(body.get("endpoint"))
        auth = clean_secret(body.get("auth"), "auth")
    except (Refused, InvalidSubscription) as problem:
        return error(str(problem), getattr(problem, "status", 400))
    subscription = (
        SubscriptionInfo.objects.filter(endpoint=endpoint, webpush_info__user=request.user)
        .select_related("inbox_session")
        .first()
    )
    mine = secrets_match(auth, subscription.auth if subscription else DUMMY_AUTH) and subscription is not None
    if mine:  # now bound to this session: push ends when it does (its key may have changed)
        session.bind(request, subscription.pk, getattr(subscription, "inbox_session", None))
    return JsonResponse({"mine": mine})


@require_POST
@login_required
def unsubscribe(request):
    """Forget a subscription: JSON {"endpoint", "auth"?} from the push switch removes it when it
    is the user's, or when "auth" is its secret (the browser holds it, whoever owns the row);
    a form POST of subscription_id from the preferences page removes one of the user's own."""
    try:
        check_body_size(request)
        if request.content_type in FORM_TYPES:
            return unsubscribe_by_id(request, request.POST.get("subscription_id", ""))
        body = read_json(request)
        endpoint = clean_endpoint(body.get("endpoint"))
        auth = clean_secret(body.get("auth"), "auth")
    except InvalidSubscription as problem:
        return error(f"Give the endpoint of the subscription to remove. {problem}")
    except Refused as problem:
        return error(str(problem), problem.status)
    removed = False
    with transaction.atomic():
        subscription = SubscriptionInfo.objects.select_for_update().filter(endpoint=endpoint).first()
        if subscription is not None:
            mine = PushInformation.objects.filter(subscription=subscription, user=request.user).exists()
            if mine or (auth is not None and secrets_match(auth, subscription.auth)):
                subscription.delete()
                removed = True
    return JsonResponse({"removed": removed})


def unsubscribe_by_id(request, subscription_id: str):
    if not SUBSCRIPTION_ID.fullmatch(subscription_id):
        raise Refused("subscription_id must be a number.")
    mine = SubscriptionInfo.objects.filter(webpush_info__user=request.user, pk=int(subscription_id))
    deleted, _ = mine.delete()
    if not deleted:
        return error("No such subscription of yours.", 404)
    return redirect("inbox:preferences")


@csrf_exempt  # the service worker has no CSRF token; the signed token in the push is the proof
@rate_limited  # no login: a cap per address
@require_POST
def mark_read_from_push(request):
    try:
        pk = notification_id(read_json(request).get("token"))
    except Refused as problem:
        return error(str(problem), problem.status)
    except signing.BadSignature:  # SignatureExpired is one
        return error("The token is missing, altered or too old.")
    notification = Notification.objects.filter(pk=pk).first()
    if notification:
        notification.mark_read()
    return HttpResponse(status=204)


@csrf_exempt  # sent by the service worker, which has no CSRF token: the old auth secret is the proof
@rate_limited  # no login: a cap per address
@require_POST
def renew(request):
    """pushsubscriptionchange: JSON {"old_endpoint", "old_auth", "subscription"} replaces a
    stored subscription's endpoint and keys, only when old_auth is that subscription's secret.
    An unknown endpoint and a wrong secret get the same 403."""
    try:
        body = read_json(request)
        if not isinstance(body.get("old_endpoint"), str):
            raise Refused("Give old_endpoint, old_auth and subscription.")
        old_endpoint = clean_endpoint(body["old_endpoint"])
        old_auth = body.get("old_auth")
        fields = clean_subscription(body.get("subscription"))
    except Refused as problem:
        return error(str(problem), problem.status)
    except InvalidSubscription as problem:
        return error(str(problem))
    with transaction.atomic():
        old = SubscriptionInfo.objects.select_for_update().filter(endpoint=old_endpoint).first()
        if not (secrets_match(old_auth, old.auth if old else DUMMY_AUTH) and old is not None):
            return error(UNVERIFIED, 403)
        taken = SubscriptionInfo.objects.filter(endpoint=fields["endpoint"]).exclude(pk=old.pk)
        if taken.exists():
            return error("The new endpoint is already stored for another subscription.", 409)
        try:
            with transaction.atomic():
                SubscriptionInfo.objects.filter(pk=old.pk).update(**fields)
        except IntegrityError:  # saved by someone else a moment ago
            return error("The new endpoint is already stored for another subscription.", 409)
    return JsonResponse({"renewed": 1})
