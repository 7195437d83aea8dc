"""The hub's reads: the written-out rows of a new message (inbox.fast_reads.message_rows) are the
QuerySet's, recipient by recipient, with each recipient's badge count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from inbox.api import notify
from inbox.models import Message, Notification
from inbox.realtime import queries


@pytest.fixture
def sent(db, make_notifications):
    users = [User.objects.create_user(f"user{i}") for i in range(5)]
    for i, user in enumerate(users):
        make_notifications(user, i * 3)  # 0 to 12 unread already
        make_notifications(user, 2, read=True)
        make_notifications(user, 1, expired=True)
    message = notify(users[:4], "Hello").message  # not to the fifth
    Notification.objects.filter(message=message, recipient=users[1]).update(read_at=timezone.now())
    return message, users


def rows_both_ways(settings, message_id, user_ids):
    found = {}
    for fast in (True, False):
        settings.INBOX_FAST_READS = fast
        got_message, rows = queries.sent_rows(message_id, user_ids)
        found[fast] = (got_message and got_message.pk, sorted(rows, key=lambda row: row.user_id))
    return found


@pytest.mark.parametrize("limit", [3, 100])
def test_a_new_message_s_rows_are_the_queryset_s(sent, settings, limit):
    settings.INBOX_BADGE_MAX = limit - 1  # counted up to BADGE_MAX + 1
    message, users = sent
    ids = [user.pk for user in users]
    found = rows_both_ways(settings, message.pk, ids)
    assert found[True] == found[False]
    message_id, rows = found[True]
    assert message_id == message.pk and [row.user_id for row in rows] == ids[:4]
    assert [row.read for row in rows] == [False, True, False, False]
    assert [row.unread for row in rows] == [min(count, limit) for count in (1, 3, 7, 10)]
    assert all(timezone.is_aware(row.created) for row in rows)


def test_no_rows_for_users_the_message_did_not_reach_or_a_message_expired(sent, settings):
    message, users = sent
    assert rows_both_ways(settings, message.pk, [users[4].pk]) == {
        True: (message.pk, []),
        False: (message.pk, []),
    }
    Message.objects.filter(pk=message.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert rows_both_ways(settings, message.pk, [users[0].pk]) == {True: (None, []), False: (None, [])}


def test_one_query_per_batch(sent, settings, django_assert_num_queries):
    message, users = sent
    with django_assert_num_queries(2):  # the message, then the rows
        queries.sent_rows(message.pk, [user.pk for user in users])
