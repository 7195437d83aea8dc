"""The periodic sweep that ends push for sessions that ended without a signal.

Logging out, logging in over a session and a saved password change or deactivation end push at
once (inbox.push.session). What sends no signal is found here: a session that expired or was
deleted (clearsessions, an admin, a cache eviction), a password or is_active changed with
QuerySet.update(), and subscriptions bound to no session (saved before bindings existed, or by
code other than push/subscribe/). `manage.py inbox_worker` queues it every
INBOX_PUSH_SWEEP_INTERVAL seconds; `manage.py sweep_push_subscriptions` runs it once.

Every step works a chunk of CHUNK subscriptions at a time: a bounded number of queries each,
the deletions set-based. Only the password check reads rows into Python (a session auth hash is
an HMAC keyed with SECRET_KEY, which SQL cannot compute)."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import router, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from webpush.models import SubscriptionInfo

from .models import PushSession
from .session import valid_auth_hashes

__all__ = ["live_session_keys", "sweep"]

CHUNK = 500


def delete_in_chunks(subscriptions) -> int:
    """Delete the subscriptions of a queryset, CHUNK at a time (bounded memory and statements).
    The DELETE applies the queryset's conditions again: a row re-bound (to a live session) after
    the ids were read is kept, though not under a lock, unlike delete_if_still()."""
    deleted = 0
    while ids := list(subscriptions.order_by("pk").values_list("pk", flat=True)[:CHUNK]):
        deleted += subscriptions.filter(pk__in=ids).delete()[1].get(SubscriptionInfo._meta.label, 0)
    return deleted


def delete_if_still(pks: list[int], **lookup) -> int:
    """Delete the subscriptions of these bindings whose binding still matches `lookup` (the
    values the sweep decided from), under a row lock: a page that re-bound one since it was read
    (push/check/, a login) keeps its subscription."""
    with transaction.atomic(using=router.db_for_write(PushSession)):
        still = PushSession.objects.select_for_update().filter(pk__in=pks, **lookup)
        ids = list(still.values_list("pk", flat=True))
        SubscriptionInfo.objects.filter(pk__in=ids).delete()
    return len(ids)


def session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def session_model():
    """The model of a database-backed session engine (db, cached_db), else None."""
    get_model_class = getattr(session_store(), "get_model_class", None)
    return get_model_class() if get_model_class is not None else None


def live_session_keys(keys: set[str]) -> set[str]:
    """Of these session keys, those whose session still exists: one query for a database-backed
    engine. Another engine is not asked here (the sweep is), nor is "" (signed cookies)."""
    model = session_model()
    if model is None or not keys - {""}:
        return keys
    live = model.objects.filter(session_key__in=keys - {""}, expire_date__gt=timezone.now())
    return set(live.values_list("session_key", flat=True)) | ({""} & keys)


def unbound() -> int:
    return delete_in_chunks(SubscriptionInfo.objects.filter(inbox_session__isnull=True))


def inactive() -> int:
    try:
        get_user_model()._meta.get_field("is_active")
    except FieldDoesNotExist:  # a custom user model without it: every user is active
        return 0
    return delete_in_chunks(SubscriptionInfo.objects.filter(inbox_session__user__is_active=False))


def sessions_gone() -> int:
    """Subscriptions whose session no longer exists or has expired. A database-backed engine is
    asked in SQL (an anti-join); another engine (cache, file) key by key, a chunk at a time."""
    model = session_model()
    bound = PushSession.objects.exclude(session_key="")  # signed cookies: nothing to look up
    if model is not None:
        live = model.objects.filter(session_key=OuterRef("session_key"), expire_date__gt=timezone.now())
        return delete_in_chunks(
            SubscriptionInfo.objects.filter(inbox_session__in=bound.filter(~Exists(live)))
        )
    store, deleted, after = session_store(), 0, None
    while True:
        chunk = bound.order_by("pk")
        chunk = list(
            (chunk.filter(pk__gt=after) if after else chunk).values_list("pk", "session_key")[:CHUNK]
        )
        if not chunk:
            return deleted
        after = chunk[-1][0]
        if gone := [(pk, key) for pk, key in chunk if not store().exists(key)]:
            deleted += delete_if_still([pk for pk, _ in gone], session_key__in={key for _, key in gone})


def passwords_changed() -> int:
    """Subscriptions bound under a session auth hash the user no longer has (a password changed
    since, as Django's get_user sees it)."""
    deleted, after = 0, None
    while True:
        chunk = PushSession.objects.select_related("user").order_by("pk")
        chunk = list((chunk.filter(pk__gt=after) if after else chunk)[:CHUNK])
        if not chunk:
            return deleted
        after = chunk[-1].pk
        hashes = {}  # per user: one HMAC per user and key, not per subscription
        stale = []
        for binding in chunk:
            if binding.user_id not in hashes:
                hashes[binding.user_id] = valid_auth_hashes(binding.user)
            if binding.auth_hash not in hashes[binding.user_id]:
                stale.append(binding)
        if stale:
            deleted += delete_if_still([b.pk for b in stale], auth_hash__in={b.auth_hash for b in stale})


def sweep() -> dict:
    """End push for every session that ended; the number of subscriptions deleted, by reason."""
    return {
        "unbound": unbound(),
        "inactive": inactive(),
        "session_gone": sessions_gone(),
        "password_changed": passwords_changed(),
    }
