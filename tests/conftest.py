from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from inbox.models import Message, Notification


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After every test that used the database and passed: each notification's expires_at is its
    message's. Every writer must keep that copy in step (see Notification.expires_at), so a test
    that writes rows or changes an expiry by a path that forgot it fails here. A test that makes
    the copy differ on purpose is marked expiry_copies_differ."""
    result = yield
    uses_db = "_django_db_helper" in item.fixturenames or item.get_closest_marker("django_db")
    if uses_db and not item.get_closest_marker("expiry_copies_differ"):
        assert_expiry_copies_in_step()
    return result


def assert_expiry_copies_in_step():
    rows = Notification.objects.values_list("pk", "expires_at", "message__expires_at")
    differ = [(pk, copy, expiry) for pk, copy, expiry in rows if copy != expiry]
    assert not differ, f"Notification.expires_at differs from its message's: {differ[:5]}"


@pytest.fixture
def leave_out(settings):
    """leave_out("inbox.realtime", ...): the site without these apps, for one test (INSTALLED_APPS
    is the one switch). What a channel registered at start-up (its delivery, its column) stays
    registered; what asks django.apps.apps.is_installed() (pages, checks, the worker) sees it gone."""

    def without(*names):
        settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app not in names]

    return without


@pytest.fixture
def alice(db):
    return User.objects.create_user("alice", password="pw-alice")


@pytest.fixture
def bob(db):
    return User.objects.create_user("bob", password="pw-bob")


@pytest.fixture
def staff(db):
    return User.objects.create_user("sam", password="pw-sam", is_staff=True)


@pytest.fixture
def team(alice, bob):
    group = Group.objects.create(name="team")
    group.user_set.add(alice, bob)
    return group


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def make_notifications():
    """make_notifications(user, n, read=False, expired=False): n rows, one second apart,
    the newest last, written with two bulk inserts (fast even for 100,000)."""

    def make(user, n, *, read=False, expired=False, text="Note {i}", level="info"):
        now = timezone.now()
        expires_at = now - timedelta(minutes=1) if expired else None
        messages = Message.objects.bulk_create(
            Message(
                text=text.format(i=i),
                level=level,
                created=now - timedelta(seconds=n - i),
                expires_at=expires_at,
            )
            for i in range(n)
        )
        return Notification.objects.bulk_create(
            Notification(recipient=user, message=m, created=m.created, read_at=now if read else None)
            for m in messages
        )

    return make
