from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.utils import timezone

from inbox.api import notify
from inbox.models import Message, Notification
from inbox.recipients import select_recipients


def test_notify_one_user(alice, bob):
    sent = notify(alice, "Hello", url="/inbox/", level="success", actor=bob)
    assert sent.count == 1
    row = Notification.objects.get()
    assert (row.recipient, row.message, row.read_at) == (alice, sent.message, None)
    assert (sent.message.text, sent.message.url, sent.message.level) == ("Hello", "/inbox/", "success")
    assert sent.message.actor == bob
    assert row.created == sent.message.created


def test_the_text_is_stored_once_for_many_recipients(alice, bob, staff):
    sent = notify([alice, bob, staff], "Broadcast")
    assert sent.count == 3
    assert Message.objects.count() == 1
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {"alice", "bob", "sam"}


def test_a_list_with_duplicates_sends_once_each(alice, bob):
    assert notify([alice, bob, alice], "Once").count == 2


def test_a_group_reaches_its_active_members(team, alice, bob, staff):
    bob.is_active = False
    bob.save()
    sent = notify(team, "Team news")
    assert sent.count == 1
    assert list(Notification.objects.values_list("recipient", flat=True)) == [alice.pk]


def test_a_queryset_fans_out_in_the_database(alice, bob, staff, django_assert_num_queries):
    # SAVEPOINT (the test's transaction), the message, one INSERT ... SELECT, RELEASE; and in the
    # same transaction the hand-overs: push's outbox row, and email's look at whether anyone
    # turned the kind on by email (nobody: no row). Email is handed the Message: it reads
    # nothing back.
    with django_assert_num_queries(4 + 2):
        sent = notify(User.objects.filter(is_staff=False), "Users only")
    assert sent.count == 2
    assert set(Notification.objects.values_list("recipient", flat=True)) == {alice.pk, bob.pk}


def test_a_queryset_with_joins_does_not_duplicate(team, alice):
    other = Group.objects.create(name="other")
    other.user_set.add(alice)
    sent = notify(User.objects.filter(groups__in=[team, other]), "Joined")
    assert sent.count == 2


def test_a_list_is_inserted_in_batches(settings, db, django_assert_num_queries):
    settings.INBOX_FANOUT_BATCH_SIZE = 10
    users = User.objects.bulk_create(User(username=f"u{i}") for i in range(25))
    with django_assert_num_queries(6 + 2):  # SAVEPOINT, the message, 3 batches, RELEASE; the hand-overs
        assert notify(users, "Batched").count == 25


def test_expiry_and_level_are_kept(alice):
    expires = timezone.now() + timedelta(hours=2)
    sent = notify(alice, "Soon gone", level="warning", expires_at=expires)
    assert sent.message.expires_at == expires
    assert sent.message.level == "warning"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"message": ""}, "empty"),
        ({"message": "   "}, "empty"),
        ({"message": "x" * 2001}, "limit is 2000"),
        ({"level": "loud"}, "Unknown level"),
        ({"url": "javascript:alert(1)"}, "http"),
        ({"url": "//evil.example/"}, "http"),
        ({"url": "ftp://example.com/"}, "http"),
        ({"expires_at": timezone.now() - timedelta(seconds=1)}, "past"),
        ({"expires_at": timezone.now().replace(tzinfo=None) + timedelta(days=1)}, "timezone"),
        ({"expires_at": "tomorrow"}, "date and time"),
    ],
)
def test_bad_arguments_raise_and_write_nothing(alice, kwargs, error):
    arguments = {"message": "Hello", **kwargs}
    with pytest.raises(ValidationError, match=error):
        notify(alice, **arguments)
    assert not Message.objects.exists()
    assert not Notification.objects.exists()


@pytest.mark.parametrize("recipients", ["alice", 42, None, [1, 2], [User(username="unsaved")]])
def test_bad_recipients_raise_and_write_nothing(alice, recipients):
    with pytest.raises(ValidationError):
        notify(recipients, "Hello")
    assert not Message.objects.exists()


def test_a_queryset_of_something_else_is_refused(alice):
    with pytest.raises(ValidationError, match="must be users"):
        notify(Group.objects.all(), "Hello")


def test_nobody_to_send_to_is_an_error_and_rolls_back(db):
    with pytest.raises(ValidationError, match="no recipients"):
        notify(User.objects.none(), "Hello")
    with pytest.raises(ValidationError, match="no recipients"):
        notify([], "Hello")
    assert not Message.objects.exists()


def test_an_empty_group_is_an_error(db):
    with pytest.raises(ValidationError, match="no recipients"):
        notify(Group.objects.create(name="empty"), "Hello")
    assert not Message.objects.exists()


def test_links_may_be_site_paths_or_http_urls(alice):
    assert notify(alice, "a", url="/inbox/?filter=all").message.url == "/inbox/?filter=all"
    assert notify(alice, "b", url="https://example.com/x").message.url == "https://example.com/x"
    assert notify(alice, "c", url=None).message.url == ""


def test_a_sliced_queryset_sends_to_the_slice(alice, bob, staff):
    sent = notify(User.objects.order_by("username")[:2], "First two")
    assert sent.count == 2
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {"alice", "bob"}


# A NUL cannot be stored in a PostgreSQL text column (DataError, a 500): it is refused first.
@pytest.mark.parametrize(
    "kwargs", [{"message": "h\x00i"}, {"url": "/inbox/\x00"}, {"url": "https://example.com/a\x00b"}]
)
def test_a_nul_in_the_text_or_link_is_a_validation_error(alice, kwargs):
    with pytest.raises(ValidationError, match="NUL"):
        notify(alice, **{"message": "Hello", **kwargs})
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    "names", [{"usernames": ["a\x00b"]}, {"usernames": ["alice", "\x00"]}, {"group_names": ["t\x00"]}]
)
def test_a_nul_in_a_recipient_name_is_a_validation_error(alice, names):
    with pytest.raises(ValidationError, match="NUL"):
        select_recipients(**names)
