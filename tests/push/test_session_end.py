"""Push ends with the login session that turned it on (issue 18, item 7): a subscription is
removed, and a later notify() pushes nothing to it, when its session ends in any way: logging
out, another user logging in over it, a password change made elsewhere, deactivation (even by
QuerySet.update(), which sends no signal), the session's expiry or deletion (the sweep)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from webpush.models import SubscriptionInfo

from inbox.api import notify
from inbox.push import sweep
from inbox.push.models import PushSession
from inbox.push.tasks import deliver_push, sweep_push_subscriptions

from .test_views import SUBSCRIBE, post_json

CHECK = reverse("inbox:push_check")
User = get_user_model()


def log_in(username: str, client: Client | None = None) -> Client:
    """A browser that logs in through the login page (so login() and its signal run as for real)."""
    client = client or Client()
    response = client.post(reverse("login"), {"username": username, "password": f"pw-{username}"})
    assert response.status_code == 302, response.content
    return client


def turn_on_push(client: Client, receiver, name: str) -> dict:
    subscription = receiver.subscription(name)
    assert post_json(client, SUBSCRIBE, {"subscription": subscription}).status_code == 201
    return subscription


def pushed(receiver, user, text: str) -> list[str]:
    """Which browsers a new notification to `user` reaches."""
    receiver.received.clear()
    deliver_push.call(notify(user, text).message.pk)
    return sorted(p["path"] for p in receiver.received)


def subscriptions() -> set[str]:
    return {
        endpoint.rsplit("/", 1)[1] for endpoint in SubscriptionInfo.objects.values_list("endpoint", flat=True)
    }


def test_push_reaches_the_browser_while_its_session_lives(alice, receiver):
    laptop = log_in("alice")
    turn_on_push(laptop, receiver, "laptop")
    assert pushed(receiver, alice, "Hello") == ["/push/laptop"]
    assert sweep_push_subscriptions.call() == {
        "unbound": 0,
        "inactive": 0,
        "session_gone": 0,
        "password_changed": 0,
    }
    assert pushed(receiver, alice, "Still here") == ["/push/laptop"]


def test_a_password_change_from_another_session_ends_push(alice, receiver):
    """The stolen laptop: its owner changes her password on her phone."""
    laptop, phone = log_in("alice"), log_in("alice")
    turn_on_push(laptop, receiver, "laptop")
    response = phone.post(
        reverse("password_change"),
        {"old_password": "pw-alice", "new_password1": "a new secret 7", "new_password2": "a new secret 7"},
    )
    assert response.status_code == 302
    assert subscriptions() == set()
    assert pushed(receiver, alice, "Your bank code") == []


def test_a_password_changed_without_a_signal_is_found_by_the_sweep(alice, receiver):
    laptop = log_in("alice")
    turn_on_push(laptop, receiver, "laptop")
    alice.set_password("changed behind our back")
    User.objects.filter(pk=alice.pk).update(password=alice.password)  # no post_save
    assert sweep_push_subscriptions.call()["password_changed"] == 1
    assert pushed(receiver, alice, "Secret") == []


def test_another_user_logging_in_over_the_session_ends_push(alice, bob, receiver):
    browser = log_in("alice")
    turn_on_push(browser, receiver, "shared")
    log_in("bob", browser)  # on the same browser, without logging out first
    assert subscriptions() == set()
    assert pushed(receiver, alice, "For Alice only") == []


def test_the_same_user_logging_in_again_keeps_push(alice, receiver):
    """Her session expired, and she logs in again on the same browser before the sweep: login()
    gives the session a new key, and push follows it."""
    browser = log_in("alice")
    turn_on_push(browser, receiver, "laptop")
    old_key = browser.cookies["sessionid"].value
    Session.objects.filter(session_key=old_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    log_in("alice", browser)
    new_key = browser.cookies["sessionid"].value
    assert new_key != old_key
    assert PushSession.objects.get().session_key == new_key
    assert sweep_push_subscriptions.call()["session_gone"] == 0
    assert pushed(receiver, alice, "Hello again") == ["/push/laptop"]
    log_in("alice", browser)  # logged in already: the same key, nothing changes
    assert PushSession.objects.get().session_key == browser.cookies["sessionid"].value == new_key


def test_an_expired_session_ends_push_at_the_sweep(alice, receiver):
    laptop, phone = log_in("alice"), log_in("alice")
    turn_on_push(laptop, receiver, "laptop")
    turn_on_push(phone, receiver, "phone")
    Session.objects.filter(session_key=laptop.cookies["sessionid"].value).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    assert pushed(receiver, alice, "Before the sweep") == ["/push/phone"]  # the sender checks too
    assert sweep_push_subscriptions.call()["session_gone"] == 1
    assert subscriptions() == {"phone"}
    assert pushed(receiver, alice, "After") == ["/push/phone"]


def test_a_deleted_session_ends_push_at_the_sweep(alice, receiver):
    laptop = log_in("alice")
    turn_on_push(laptop, receiver, "laptop")
    Session.objects.filter(session_key=laptop.cookies["sessionid"].value).delete()
    assert pushed(receiver, alice, "Before the sweep") == []
    out = io.StringIO()
    call_command("sweep_push_subscriptions", stdout=out)
    assert out.getvalue() == (
        "Deleted 1 push subscriptions (0 unbound, 0 inactive, 1 session gone, 0 password changed).\n"
    )
    assert subscriptions() == set()


def test_deactivation_ends_push(alice, bob, receiver):
    turn_on_push(log_in("alice"), receiver, "alice")
    turn_on_push(log_in("bob"), receiver, "bob")
    bob.is_active = False
    bob.save()  # post_save: at once
    assert subscriptions() == {"alice"}
    User.objects.filter(pk=alice.pk).update(is_active=False)  # a bulk update sends no signal
    assert pushed(receiver, alice, "Not to a deactivated user") == []  # the sender checks too
    assert sweep_push_subscriptions.call()["inactive"] == 1
    assert subscriptions() == set()


def test_a_subscription_bound_to_no_session_is_swept(alice, receiver, subscribe):
    subscribe(alice, "legacy")  # saved before bindings existed
    assert sweep_push_subscriptions.call()["unbound"] == 1
    assert subscriptions() == set()


def test_the_page_binds_its_subscription_to_the_current_session(alice, receiver, subscribe):
    """A subscription from before bindings existed is kept if its user's page confirms it."""
    legacy = subscribe(alice, "legacy")
    browser = log_in("alice")
    body = {"endpoint": legacy.endpoint, "auth": legacy.auth}
    assert post_json(browser, CHECK, body).json() == {"mine": True}
    assert PushSession.objects.get().session_key == browser.cookies["sessionid"].value
    assert sweep_push_subscriptions.call()["unbound"] == 0
    assert pushed(receiver, alice, "Kept") == ["/push/legacy"]


def test_logging_out_ends_push_for_this_session_only(alice, receiver):
    laptop, phone = log_in("alice"), log_in("alice")
    turn_on_push(laptop, receiver, "laptop")
    turn_on_push(phone, receiver, "phone")
    laptop.post(reverse("logout"))
    assert pushed(receiver, alice, "Hi") == ["/push/phone"]


def test_a_save_of_other_fields_ends_nothing(alice, receiver, django_assert_num_queries):
    turn_on_push(log_in("alice"), receiver, "laptop")
    alice.refresh_from_db()
    with django_assert_num_queries(1):  # the UPDATE only
        alice.save(update_fields=["last_login"])
    alice.first_name = "Alice"
    alice.save()
    assert subscriptions() == {"laptop"}


@pytest.mark.parametrize("engine", ["django.contrib.sessions.backends.cache"])
def test_the_sweep_asks_a_cache_session_engine_key_by_key(settings, alice, receiver, engine):
    settings.SESSION_ENGINE = engine
    laptop, phone = log_in("alice"), log_in("alice")
    turn_on_push(laptop, receiver, "laptop")
    turn_on_push(phone, receiver, "phone")
    laptop.session.delete()  # gone from the cache, as an eviction would do
    assert sweep_push_subscriptions.call()["session_gone"] == 1
    assert subscriptions() == {"phone"}


def test_logging_in_again_over_a_session_login_empties_ends_push(alice, receiver):
    """Her password was changed without a signal; logging in again on the laptop, login() empties
    the stale session (no key until the response saves it): push ends rather than being bound to
    a session that cannot be looked up."""
    laptop = log_in("alice")
    turn_on_push(laptop, receiver, "laptop")
    alice.set_password("pw-alice")  # the same password, a new salt: a new session auth hash
    User.objects.filter(pk=alice.pk).update(password=alice.password)
    log_in("alice", laptop)
    assert subscriptions() == set()
    assert pushed(receiver, alice, "Hello") == []


@pytest.mark.parametrize("n", [1, 40])
def test_the_sweep_costs_the_same_few_queries_for_any_number_of_live_subscriptions(
    alice, bob, subscribe, n, django_assert_num_queries
):
    from .conftest import bind_to_sessions

    bind_to_sessions(
        [(user, subscribe(user, f"{user.username}-{i}")) for i in range(n) for user in (alice, bob)]
    )
    # One SELECT each for unbound, inactive and ended sessions; the password check reads a chunk
    # of bindings with their users, then finds no next chunk.
    with django_assert_num_queries(5):
        assert sum(sweep_push_subscriptions.call().values()) == 0


def test_logging_out_ends_push_with_signed_cookie_sessions(settings, alice, bob, receiver):
    """A session engine that keeps nothing on the server has no key to bind to: before, logging
    out ended nothing, and the next user of a shared browser read Alice's notifications. Such a
    session cannot be told from her others, so logging out ends all of her key-less bindings."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    shared = log_in("alice")
    turn_on_push(shared, receiver, "shared")
    turn_on_push(log_in("bob"), receiver, "bobs")
    assert PushSession.objects.get(user=alice).session_key == ""
    assert pushed(receiver, alice, "Before") == ["/push/shared"]
    assert shared.post(reverse("logout")).status_code == 302
    assert subscriptions() == {"bobs"}  # Bob's push goes on
    assert pushed(receiver, alice, "After logging out") == []


# -- the sweep deletes only what is still as it read it


def test_the_sweep_keeps_a_binding_renewed_after_it_read_it_stale(monkeypatch, alice, receiver):
    """Her password was changed without a signal; she logs in again, and her page confirms its
    subscription (push/check/ binds it to the new session and hash) between the sweep's read and
    its delete."""
    subscription = turn_on_push(log_in("alice"), receiver, "laptop")
    alice.set_password("pw-alice")  # the same password, a new salt: a new session auth hash
    User.objects.filter(pk=alice.pk).update(password=alice.password)
    real, renewed = sweep.valid_auth_hashes, []

    def renewed_meanwhile(user):
        if not renewed:
            body = {"endpoint": subscription["endpoint"], "auth": subscription["keys"]["auth"]}
            renewed.append(post_json(log_in("alice"), CHECK, body).json())
        return real(user)

    monkeypatch.setattr(sweep, "valid_auth_hashes", renewed_meanwhile)
    assert sweep_push_subscriptions.call()["password_changed"] == 0
    assert renewed == [{"mine": True}] and subscriptions() == {"laptop"}
    assert pushed(receiver, alice, "Still mine") == ["/push/laptop"]


def test_the_sweep_keeps_a_subscription_bound_to_a_new_session_meanwhile(
    settings, monkeypatch, alice, receiver
):
    """A cache session engine, asked key by key: her session was evicted, and she logs in again
    (push follows her new session) between the sweep's read and its delete."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    laptop = log_in("alice")
    turn_on_push(laptop, receiver, "laptop")
    laptop.session.delete()
    store, renewed = sweep.session_store(), []

    class AskedThenRenewed:
        def exists(self, key):
            alive = store().exists(key)
            if not renewed:
                renewed.append(log_in("alice", laptop))
            return alive

    monkeypatch.setattr(sweep, "session_store", lambda: AskedThenRenewed)
    assert sweep_push_subscriptions.call()["session_gone"] == 0
    assert renewed and PushSession.objects.get().session_key == laptop.cookies["sessionid"].value
    assert pushed(receiver, alice, "Still mine") == ["/push/laptop"]
