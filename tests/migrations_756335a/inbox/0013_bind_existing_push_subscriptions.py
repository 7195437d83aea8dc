"""Binds the push subscriptions saved before 0012 to the login sessions that saved them, so an
upgrade does not end every user's push: until 0012 a session kept the ids of its subscriptions
in its own data ("inbox_push_subscriptions"). Read for the database session engines only (the
others keep no sessions that a migration can list); what is left unbound is bound when its
user's page confirms it (push/check/) or removed by the worker's sweep."""

from __future__ import annotations

from importlib import import_module

from django.apps import apps as global_apps
from django.conf import settings
from django.db import migrations
from django.utils import timezone

SESSION_KEY = "inbox_push_subscriptions"
DATABASE_ENGINES = {"django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cached_db"}
CHUNK = 2000


def bind_existing(apps, schema_editor):
    if settings.SESSION_ENGINE not in DATABASE_ENGINES:
        return
    try:
        Session = apps.get_model("sessions", "Session")
    except LookupError:
        return
    PushSession = apps.get_model("inbox", "PushSession")
    PushInformation = apps.get_model("webpush", "PushInformation")
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    alias = schema_editor.connection.alias
    live = Session.objects.using(alias).filter(expire_date__gt=timezone.now()).order_by("pk")
    wanted = {}  # subscription id -> (session key, auth hash, user id)
    for session in live.iterator(chunk_size=CHUNK):
        data = store.decode(session.session_data)
        ids, user_id, auth_hash = (
            data.get(SESSION_KEY),
            data.get("_auth_user_id"),
            data.get("_auth_user_hash"),
        )
        if not (isinstance(ids, list) and user_id and isinstance(auth_hash, str)):
            continue
        for subscription_id in ids:
            if isinstance(subscription_id, int) and not isinstance(subscription_id, bool):
                wanted[subscription_id] = (session.session_key, auth_hash, str(user_id))
        if len(wanted) >= CHUNK:
            _bind(PushSession, PushInformation, alias, wanted)
            wanted = {}
    _bind(PushSession, PushInformation, alias, wanted)


def _bind(PushSession, PushInformation, alias, wanted):
    """Binds those of `wanted` that exist and belong to the session's user."""
    owners = PushInformation.objects.using(alias).filter(subscription_id__in=wanted, user__isnull=False)
    rows = [
        PushSession(subscription_id=subscription_id, session_key=key, auth_hash=auth_hash, user_id=user_id)
        for subscription_id, user_id in owners.values_list("subscription_id", "user_id")
        for key, auth_hash, session_user in [wanted[subscription_id]]
        if str(user_id) == session_user
    ]
    PushSession.objects.using(alias).bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0012_push_session"),
        *([("sessions", "0001_initial")] if global_apps.is_installed("django.contrib.sessions") else []),
    ]

    operations = [migrations.RunPython(bind_existing, migrations.RunPython.noop)]
