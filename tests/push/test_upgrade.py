"""Upgrading past 0012 keeps push for the subscriptions a live session recorded (0013)."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("inbox", "0012_push_session")]
AFTER = [("inbox", "0013_bind_existing_push_subscriptions")]


def old_session(user, subscription_ids, *, expires_in=timedelta(days=1), key=None) -> str:
    """A session as the code before 0012 wrote it: its subscriptions' ids in its own data."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=key)
    store["_auth_user_id"] = str(user.pk)
    store["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    store["_auth_user_hash"] = user.get_session_auth_hash()
    store["inbox_push_subscriptions"] = subscription_ids
    store.set_expiry(timezone.now() + expires_in)
    store.save(must_create=key is None)
    return store.session_key


@pytest.mark.django_db(transaction=True)
def test_the_migration_binds_what_live_sessions_recorded_and_nothing_else():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        Subscription = old.get_model("webpush", "SubscriptionInfo")
        PushInformation = old.get_model("webpush", "PushInformation")
        alice = User.objects.create_user("alice", password="pw")
        bob = User.objects.create_user("bob", password="pw")

        def subscription(user, name):
            info = Subscription.objects.create(browser="chrome", endpoint=f"https://push.example/{name}")
            PushInformation.objects.create(user_id=user.pk, subscription=info)
            return info.pk

        kept, expired, bobs, unrecorded = (
            subscription(u, n)
            for u, n in [(alice, "kept"), (alice, "expired"), (bob, "bobs"), (alice, "unrecorded")]
        )
        live = old_session(alice, [kept, bobs, 10**9, "x", True])  # bob's is not alice's to bind
        old_session(alice, [expired], expires_in=timedelta(seconds=-1))

        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
        new = executor.loader.project_state(AFTER).apps
        bound = new.get_model("inbox", "PushSession").objects.values_list(
            "subscription_id", "session_key", "user_id", "auth_hash"
        )
        assert list(bound) == [(kept, live, alice.pk, alice.get_session_auth_hash())]
        assert unrecorded and expired  # left unbound: the sweep or the page decides
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
