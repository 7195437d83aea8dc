"""A database from before the push channel's indexes and sessions (made with the migrations as they
shipped, before inbox 0002) upgrades to one row per endpoint and one owner per subscription, and
keeps push for the subscriptions a live session recorded: inbox_push 0001 does what inbox 0002,
0012 and 0013 did then."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from webpush.models import PushInformation, SubscriptionInfo

from inbox.push.models import PushSession
from tests.migrations_756335a import ZERO, migrate, pending

BEFORE = [("inbox", "0001_initial"), ("webpush", "0005_auto_20230614_1529")]


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
def test_the_upgrade_merges_duplicates_and_binds_what_live_sessions_recorded_and_nothing_else():
    try:
        migrate(ZERO, shipped=True)
        executor = migrate(BEFORE, shipped=True)
        old = executor.loader.project_state(BEFORE).apps
        Subscription = old.get_model("webpush", "SubscriptionInfo")
        Owner = old.get_model("webpush", "PushInformation")
        alice = User.objects.create_user("alice", password="pw")
        bob = User.objects.create_user("bob", password="pw")

        def subscription(user, name):
            info = Subscription.objects.create(browser="chrome", endpoint=f"https://push.example/{name}")
            Owner.objects.create(user_id=user.pk, subscription=info)
            return info.pk

        kept, expired, bobs, unrecorded = (
            subscription(u, n)
            for u, n in [(alice, "kept"), (alice, "expired"), (bob, "bobs"), (alice, "unrecorded")]
        )
        live = old_session(alice, [kept, bobs, 10**9, "x", True])  # bob's is not alice's to bind
        old_session(alice, [expired], expires_in=timedelta(seconds=-1))
        twice = [subscription(alice, "twice"), subscription(alice, "twice")]  # two rows, one endpoint
        Owner.objects.create(user_id=bob.pk, subscription_id=unrecorded)  # a second owner

        migrate("leaves")
        assert not pending()
        bound = PushSession.objects.values_list("subscription_id", "session_key", "user_id", "auth_hash")
        assert list(bound) == [(kept, live, alice.pk, alice.get_session_auth_hash())]
        assert unrecorded and expired  # left unbound: the sweep or the page decides
        # The newest row of an endpoint, and of a subscription's owners, stays; no more can come.
        endpoint = SubscriptionInfo.objects.filter(endpoint__endswith="twice")
        assert list(endpoint.values_list("pk", flat=True)) == [twice[1]]
        assert PushInformation.objects.get(subscription_id=unrecorded).user_id == bob.pk
        with pytest.raises(IntegrityError), transaction.atomic():
            SubscriptionInfo.objects.create(browser="chrome", endpoint="https://push.example/kept")
        with pytest.raises(IntegrityError), transaction.atomic():
            PushInformation.objects.create(user=alice, subscription_id=bobs)
    finally:
        migrate("leaves")


@pytest.mark.django_db(transaction=True)
def test_a_database_that_ran_0012_as_it_was_but_not_0013_binds_what_live_sessions_recorded():
    """inbox 0012 as it shipped made the table; 0013, which bound the old subscriptions, never ran
    there: the upgrade binds them then (the table is empty)."""
    after_0012 = [("inbox", "0012_push_session"), ("webpush", "0005_auto_20230614_1529")]
    try:
        migrate(ZERO, shipped=True)
        executor = migrate(after_0012, shipped=True)
        old = executor.loader.project_state(after_0012).apps
        alice = User.objects.create_user("alice", password="pw")
        info = old.get_model("webpush", "SubscriptionInfo").objects.create(
            browser="chrome", endpoint="https://push.example/kept"
        )
        old.get_model("webpush", "PushInformation").objects.create(user_id=alice.pk, subscription=info)
        live = old_session(alice, [info.pk])

        migrate("leaves")
        bound = PushSession.objects.values_list("subscription_id", "session_key", "user_id")
        assert list(bound) == [(info.pk, live, alice.pk)]
    finally:
        migrate("leaves")
