from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import OuterRef
from django.utils import timezone

from inbox.badge import badge_for, count_unread, unread_count
from inbox.fast_reads import unread_count_sql
from inbox.models import Message, Notification, parse_cursor


@pytest.fixture(params=[True, False], ids=["fast_reads", "querysets"])
def fast_reads(request, settings):
    settings.INBOX_FAST_READS = request.param
    return request.param


def test_unread_count_skips_read_and_expired(fast_reads, alice, bob, make_notifications):
    make_notifications(alice, 3)
    make_notifications(alice, 2, read=True)
    make_notifications(alice, 4, expired=True)
    make_notifications(bob, 5)
    assert count_unread(alice, 100) == 3


def test_unread_count_stops_at_its_limit(fast_reads, alice, make_notifications, django_assert_num_queries):
    make_notifications(alice, 30)
    with django_assert_num_queries(1):
        assert count_unread(alice, 10) == 10


def test_unread_count_skips_expired_rows_before_its_limit(fast_reads, alice, make_notifications):
    visible = make_notifications(alice, 10)
    Message.objects.filter(deliveries__in=visible[:3]).update(expires_at=timezone.now() + timedelta(hours=1))
    make_notifications(alice, 5, expired=True)  # the newest rows: the first the index yields
    assert count_unread(alice, 10) == 10
    assert count_unread(alice, 11) == 10


@pytest.mark.parametrize("limit", [1, 3, 10, 11])
def test_the_written_out_count_is_the_querysets(alice, bob, make_notifications, limit):
    """unread_count_sql() (the fast path's, and inbox.realtime's statements) counts what the
    QuerySet's "visible" and "unread" count, for every case they tell apart, bounded alike."""
    visible = make_notifications(alice, 6)
    Message.objects.filter(deliveries__in=visible[:2]).update(expires_at=timezone.now() + timedelta(hours=1))
    make_notifications(alice, 2, read=True)
    make_notifications(alice, 3, expired=True)
    make_notifications(bob, 4)
    sql = "SELECT " + unread_count_sql(connection, "%s")
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(sql, [alice.pk, now, limit])
        (written,) = cursor.fetchone()
    rules = Notification.objects.for_user(alice).visible().unread()
    assert written == rules[:limit].count() == min(limit, 6)


def test_the_count_as_an_expression_is_the_same_count(alice, bob, make_notifications):
    """unread_count(): a constant user counted once per statement, a column per row."""
    make_notifications(alice, 5)
    make_notifications(alice, 2, expired=True)
    make_notifications(bob, 2)
    users = get_user_model().objects.filter(pk__in=[alice.pk, bob.pk])
    assert dict(users.annotate(n=unread_count(OuterRef("pk"), 4)).values_list("pk", "n")) == {
        alice.pk: 4,
        bob.pk: 2,
    }
    assert users.annotate(n=unread_count(alice, 10)).values_list("n", flat=True)[0] == 5


def test_badge_label_caps_at_the_maximum(settings, alice, make_notifications):
    settings.INBOX_BADGE_MAX = 9
    make_notifications(alice, 9)
    assert badge_for(alice).label == "9"
    make_notifications(alice, 1)
    assert badge_for(alice).label == "9+"


def test_keyset_paging_walks_every_row_once_in_order(alice, make_notifications):
    rows = make_notifications(alice, 25)
    # Several rows with one timestamp: the id breaks the tie.
    Notification.objects.filter(pk__in=[r.pk for r in rows[10:15]]).update(created=rows[10].created)
    seen, cursor = [], None
    while True:
        page = Notification.objects.for_user(alice).newest_first()
        if cursor:
            page = page.before(cursor)
        page = list(page[:7])
        if not page:
            break
        seen += [n.pk for n in page]
        cursor = parse_cursor(page[-1].cursor)
    expected = list(
        Notification.objects.for_user(alice).order_by("-created", "-id").values_list("pk", flat=True)
    )
    assert seen == expected and len(seen) == 25


def test_cursor_round_trip(alice, make_notifications):
    (row,) = make_notifications(alice, 1)
    assert parse_cursor(row.cursor) == (row.created, row.pk)


@pytest.mark.parametrize(
    "bad",
    ["", "abc", "1", "1.", ".1", "-1.2", "1.2.3", "9" * 30 + ".1", "1e5.2", "9" * 18 + ".1"]
    + ["\u00b2.1", "1.\u0663"],  # digits to isdigit(), not to int()
)
def test_malformed_cursors_are_refused(bad):
    with pytest.raises(ValueError, match="The paging cursor is not valid."):
        parse_cursor(bad)


def test_mark_read_and_unread(alice, make_notifications):
    (row,) = make_notifications(alice, 1)
    row.mark_read()
    assert Notification.objects.get().read_at is not None
    row.mark_unread()
    assert Notification.objects.get().read_at is None
