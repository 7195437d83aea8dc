from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.badge import count_unread
from inbox.models import Message, Notification
from inbox.web.rows import newest_rows, newest_rows_and_unread


@pytest.fixture(autouse=True, params=[True, False], ids=["fast_reads", "querysets"])
def fast_reads(request, settings):
    """Every test both ways: the SQL of inbox.fast_reads, and the QuerySets it must equal."""
    settings.INBOX_FAST_READS = request.param
    return request.param


def orm(user, limit, *, unread=False, cursor=None, kind="", level=""):
    rows = Notification.objects.for_user(user).visible().select_related("message").newest_first()
    if unread:
        rows = rows.unread()
    if kind:
        rows = rows.filter(message__kind=kind)
    if level:
        rows = rows.filter(message__level=level)
    if cursor:
        rows = rows.before(cursor)
    return list(rows[:limit])


def as_tuples(rows):
    """What a list shows of each row, with the model's attribute names (a Row or a Notification)."""
    return [
        (n.pk, n.created, n.read_at, n.is_read, n.cursor, n.message.pk, n.message.text, n.message.url,
         n.message.level, n.message.kind, n.message.kind_label)
        for n in rows
    ]  # fmt: skip


@pytest.fixture
def mixed(alice, bob, staff, make_notifications):
    make_notifications(alice, 12, text="Old {i}")
    make_notifications(alice, 5, read=True, text="Read {i}")
    make_notifications(alice, 3, expired=True, text="Expired {i}")
    make_notifications(bob, 4, text="Bob {i}")
    later = Message.objects.create(
        text="Soon gone",
        url="/x/",
        level="error",
        kind="mention",
        actor=staff,
        expires_at=timezone.now() + timedelta(hours=1),
    )
    Notification.objects.create(recipient=alice, message=later, created=later.created)
    # Rows at the same instant: the id breaks the tie.
    instant = timezone.now() - timedelta(days=3)
    for i in range(3):
        twin = Message.objects.create(text=f"Twin {i}", created=instant, kind=("mention", "general")[i % 2])
        Notification.objects.create(
            recipient=alice, message=twin, created=instant, read_at=instant if i else None
        )
    # Kinds and levels mixed among read and unread rows, for the dashboard's filters.
    for i, (kind, level) in enumerate(
        [("mention", "warning"), ("build.finished", "info"), ("mention", "info")] * 3
    ):
        created = instant + timedelta(minutes=i)
        message = Message.objects.create(text=f"Kind {i}", kind=kind, level=level, created=created)
        Notification.objects.create(
            recipient=alice, message=message, created=created, read_at=created if i % 4 == 0 else None
        )
    return alice


@pytest.mark.parametrize("unread", [False, True])
@pytest.mark.parametrize("limit", [1, 7, 100])
def test_the_rows_are_the_orm_query(mixed, unread, limit):
    assert as_tuples(newest_rows(mixed, limit, unread=unread)) == as_tuples(orm(mixed, limit, unread=unread))


@pytest.mark.parametrize("unread", [False, True])
def test_keyset_pages_are_the_orm_query(mixed, unread):
    everything = orm(mixed, 100, unread=unread)
    for row in everything:
        cursor = (row.created, row.pk)
        got = newest_rows(mixed, 5, unread=unread, cursor=cursor)
        assert as_tuples(got) == as_tuples(orm(mixed, 5, unread=unread, cursor=cursor))


FILTERS = [("", ""), ("mention", ""), ("", "warning"), ("mention", "info"), ("build.finished", "error")]


@pytest.mark.parametrize("unread", [False, True])
@pytest.mark.parametrize(("kind", "level"), FILTERS)
def test_filtered_rows_are_the_orm_query(mixed, unread, kind, level):
    got = newest_rows(mixed, 100, unread=unread, kind=kind, level=level)
    assert as_tuples(got) == as_tuples(orm(mixed, 100, unread=unread, kind=kind, level=level))
    assert bool(got) == ((kind, level) != ("build.finished", "error"))  # none of those
    if kind or level:
        assert all((kind or n.message.kind) == n.message.kind for n in got)
        assert all((level or n.message.level) == n.message.level for n in got)


@pytest.mark.parametrize(("kind", "level"), FILTERS[1:4])
def test_filtered_keyset_pages_are_the_orm_query(mixed, kind, level):
    for row in orm(mixed, 100, kind=kind, level=level):
        cursor = (row.created, row.pk)
        got = newest_rows(mixed, 2, kind=kind, level=level, cursor=cursor)
        assert as_tuples(got) == as_tuples(orm(mixed, 2, kind=kind, level=level, cursor=cursor))


def test_filters_are_parameters_never_sql(mixed):
    hostile = "mention' OR '1'='1"
    assert newest_rows(mixed, 100, kind=hostile) == []
    assert newest_rows(mixed, 100, level="info' OR 1=1 --") == []


def test_a_row_shows_its_item_without_another_query(mixed, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = newest_rows(mixed, 3)
        shown = as_tuples(rows)  # everything an item reads
    assert shown[0][6] == "Soon gone" and shown[0][10] == "Mentions"
    assert timezone.is_aware(rows[0].created) and not rows[0].is_read


def test_no_rows(alice):
    assert (
        newest_rows(alice, 20) == [] and newest_rows(alice, 20, unread=True, cursor=(timezone.now(), 1)) == []
    )


@pytest.mark.parametrize("count_to", [1, 5, 20, 21, 100])
@pytest.mark.parametrize(
    "filters",
    [{}, {"unread": True}, {"kind": "mention"}, {"level": "warning", "unread": True}, {"limit": 2}],
)
def test_the_rows_come_with_the_badges_count(mixed, count_to, filters, django_assert_num_queries):
    """The count is the badge's, whatever the list shows: unread, visible rows of this user only
    (bob's, the read and the expired ones left out), bounded by `count_to`."""
    filters = {"limit": 100} | filters
    with django_assert_num_queries(1):
        rows, unread = newest_rows_and_unread(mixed, count_to=count_to, **filters)
    assert rows == newest_rows(mixed, **filters)
    assert unread == count_unread(mixed, count_to) == min(count_to, 20)


def test_the_count_needs_a_row(mixed, bob):
    """With no row to carry it there is no count (the bell then counts for itself)."""
    assert newest_rows_and_unread(mixed, 20, count_to=100, kind="nothing") == ([], None)
    Notification.objects.filter(recipient=bob).update(read_at=timezone.now())
    rows, unread = newest_rows_and_unread(bob, 20, count_to=100)
    assert len(rows) == 4 and unread == 0


@pytest.mark.parametrize("unread", [False, True])
@pytest.mark.parametrize(("kind", "level"), FILTERS)
@pytest.mark.parametrize("count_to", [None, 7])
def test_every_filter_with_every_cursor_and_the_count_is_the_orm_query(mixed, unread, kind, level, count_to):
    """The whole product: unread x kind x level x each row's cursor x the badge's count carried
    along (its parameters come before the page's), both ways against the QuerySets."""
    filters = {"unread": unread, "kind": kind, "level": level}
    pages = [None] + [(row.created, row.pk) for row in orm(mixed, 100, **filters)]
    for cursor in pages:
        expected = as_tuples(orm(mixed, 3, cursor=cursor, **filters))
        if count_to is None:
            got = newest_rows(mixed, 3, cursor=cursor, **filters)
        else:
            got, unread_count = newest_rows_and_unread(mixed, 3, count_to=count_to, cursor=cursor, **filters)
            assert unread_count == (min(count_to, 20) if expected else None)
        assert as_tuples(got) == expected


def test_rows_from_a_database_in_another_time_zone_are_the_orm_query(mixed, settings):
    """DATABASES' TIME_ZONE (for a database without time zones, as SQLite): naive datetimes are
    read in that zone, as the ORM reads them."""
    from django.db import connection

    if connection.features.supports_timezones:
        pytest.skip("the database stores time zones: DATABASES' TIME_ZONE is not used for reading")
    was = connection.settings_dict.get("TIME_ZONE")
    connection.settings_dict["TIME_ZONE"] = "America/New_York"
    try:
        settings.TIME_ZONE = "Europe/Paris"  # setting_changed: the connections read their zone again
        assert connection.timezone_name == "America/New_York"
        got = newest_rows(mixed, 100)
        assert as_tuples(got) == as_tuples(orm(mixed, 100))
        assert got[0].created.tzinfo is not None
    finally:
        connection.settings_dict["TIME_ZONE"] = was
