from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox.api import notify
from inbox.kinds import CHANNELS
from inbox.models import Message, Notification
from inbox.preferences import (
    DigestSetting,
    Preference,
    clean_timezone,
    grid,
    save_choices,
    set_choice,
)
from inbox.push.tasks import audience
from inbox.recipients import recipients_for


@pytest.fixture
def carol(db):
    return User.objects.create_user("carol")


def cells(user) -> dict:
    return {(cell.kind.key, cell.channel): cell for _, row in grid(user) for cell in row}


def test_without_overrides_each_cell_is_the_kind_s_default(alice):
    got = cells(alice)
    assert got["mention", "email"].enabled and not got["build.finished", "push"].enabled
    assert got["general", "inbox"].enabled and got["general", "digest"].enabled
    assert not got["general", "email"].enabled  # email is opt-in unless the kind says otherwise
    assert len(got) == 5 * len(CHANNELS)


def test_the_grid_is_one_query(alice, django_assert_num_queries):
    with django_assert_num_queries(1):
        grid(alice)


def test_overrides_are_stored_sparsely(alice):
    save_choices(
        alice, {("mention", "email"): False, ("build.finished", "push"): True, ("general", "inbox"): True}
    )
    stored = set(Preference.objects.values_list("kind", "channel", "enabled"))
    assert stored == {
        ("mention", "email", False),
        ("build.finished", "push", True),
    }  # general inbox is the default
    got = cells(alice)
    assert not got["mention", "email"].enabled and got["build.finished", "push"].enabled
    save_choices(alice, {("mention", "email"): True, ("build.finished", "push"): True})
    assert set(Preference.objects.values_list("kind", "channel", "enabled")) == {
        ("build.finished", "push", True)
    }


def test_saving_the_grid_is_two_statements_whatever_its_size(alice, django_assert_num_queries):
    choices = {
        (kind, channel): False for kind in ("general", "mention", "build.finished") for channel in CHANNELS
    }
    with django_assert_num_queries(4):  # SAVEPOINT, DELETE, INSERT ... ON CONFLICT, RELEASE
        save_choices(alice, choices)
    assert Preference.objects.count() == 3 + 4 + 2  # the cells whose default is on


def test_locked_and_unknown_cells_are_ignored(alice):
    save_choices(
        alice,
        {
            ("security", "email"): False,  # must deliver
            ("security", "digest"): True,  # must deliver: not a default channel, stays off
            ("announcement", "inbox"): False,  # not optional
            ("nope", "push"): False,
            ("mention", "fax"): False,
            (None, "push"): False,
        },
    )
    assert not Preference.objects.exists()
    got = cells(alice)
    assert got["security", "email"].enabled and got["security", "email"].locked
    assert not got["security", "digest"].enabled and got["security", "digest"].locked
    assert got["announcement", "inbox"].locked == "Announcements always appear in your inbox."


def test_must_deliver_ignores_stored_overrides(alice):
    Preference.objects.create(user=alice, kind="security", channel="inbox", enabled=False)
    Preference.objects.create(user=alice, kind="security", channel="email", enabled=False)
    assert cells(alice)["security", "email"].enabled
    sent = notify(alice, "New sign-in", kind="security")
    assert sent.count == 1
    assert list(recipients_for(sent.message, "email")) == [alice.pk]


def test_set_choice_turns_one_cell_and_says_when_it_is_locked(alice):
    assert set_choice(alice, "mention", "email", False)
    assert set_choice(alice, "mention", "email", False)  # idempotent
    assert Preference.objects.get().enabled is False
    assert not set_choice(alice, "security", "email", False)
    with pytest.raises(ValidationError, match="Unknown kind"):
        set_choice(alice, "nope", "email", False)
    with pytest.raises(ValidationError, match="Unknown channel"):
        set_choice(alice, "mention", "x" * 1000, False)


def test_notify_leaves_out_users_who_turned_the_kind_s_inbox_off(alice, bob, carol):
    set_choice(bob, "mention", "inbox", False)
    set_choice(carol, "general", "inbox", False)  # another kind: no effect on mentions
    everyone = User.objects.all()
    sent = notify(everyone, "Mentioned", kind="mention")
    assert sent.count == 2
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {"alice", "carol"}
    # A list of users takes the same path, in batches.
    sent = notify([alice, bob, carol], "Mentioned again", kind="mention")
    assert sent.count == 2 and not Notification.objects.filter(message=sent.message, recipient=bob).exists()


def test_when_everyone_turned_it_off_nothing_is_sent(alice):
    set_choice(alice, "mention", "inbox", False)
    with pytest.raises(ValidationError, match="Every recipient turned “Mentions” off in their inbox"):
        notify(alice, "Mentioned", kind="mention")
    with pytest.raises(ValidationError, match="Every recipient turned “Mentions” off"):
        notify(User.objects.filter(pk=alice.pk), "Mentioned", kind="mention")
    assert not Message.objects.exists()  # nothing was sent


def test_a_kind_that_cannot_be_turned_off_reaches_everyone(alice):
    Preference.objects.create(user=alice, kind="announcement", channel="inbox", enabled=False)
    assert notify(alice, "Maintenance tonight", kind="announcement").count == 1


@pytest.mark.parametrize("users", [10, 300])
def test_the_fan_out_stays_one_insert_with_the_routing_clause(db, users, django_assert_num_queries):
    User.objects.bulk_create(User(username=f"user{i}") for i in range(users))
    for user in User.objects.all()[:3]:
        set_choice(user, "build.finished", "inbox", False)
    with CaptureQueriesContext(connection) as queries:
        # Builds are not emailed by default, so notify() counts no missing addresses here.
        sent = notify(User.objects.all(), "Build #3 passed", kind="build.finished")
    assert sent.count == users - 3
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT INTO")]
    # The message, then every recipient row in one statement, then push's hand-over row (the
    # outbox, in the same transaction; its task finds who wants a push).
    assert len(inserts) == 3, inserts
    assert "NOT EXISTS" in inserts[1] and "inbox_preference" in inserts[1]
    assert "inbox_handover" in inserts[2]
    # SAVEPOINT, 3 INSERTs, email's look (whether anyone wants the kind by email), RELEASE
    assert len(queries.captured_queries) == 6


def test_recipients_for_follows_defaults_and_overrides_in_one_query(
    alice, bob, carol, django_assert_num_queries
):
    message = notify(User.objects.all(), "Build #9 failed", kind="build.finished").message
    set_choice(alice, "build.finished", "push", True)  # off by default: alice asks for it
    set_choice(bob, "build.finished", "digest", False)  # on by default: bob turns it off
    with django_assert_num_queries(1):
        assert set(recipients_for(message, "push")) == {alice.pk}
    with django_assert_num_queries(1):
        assert set(recipients_for(message, "digest")) == {alice.pk, carol.pk}
    assert set(recipients_for(message, "email")) == set()
    assert set(recipients_for(message, "inbox")) == {alice.pk, bob.pk, carol.pk}


def test_recipients_for_works_as_a_subquery(alice, bob):
    message = notify([alice, bob], "Mentioned", kind="mention").message
    set_choice(bob, "mention", "email", False)
    rows = Notification.objects.filter(message=message, recipient_id__in=recipients_for(message, "email"))
    assert [n.recipient for n in rows] == [alice]


def test_a_kind_removed_from_the_code_routes_with_the_default_channels(alice):
    message = notify(alice, "Old").message
    type(message).objects.filter(pk=message.pk).update(kind="gone.kind")
    message.refresh_from_db()
    assert list(recipients_for(message, "push")) == [alice.pk]
    assert list(recipients_for(message, "email")) == []


def test_push_selects_only_recipients_who_want_push(alice, bob):
    from webpush.models import PushInformation, SubscriptionInfo

    for user in (alice, bob):
        info = SubscriptionInfo.objects.create(
            browser="chrome", endpoint=f"https://push.example.com/{user.pk}", auth="a", p256dh="p"
        )
        PushInformation.objects.create(user=user, subscription=info)
    set_choice(bob, "mention", "push", False)
    message = notify([alice, bob], "Mentioned", kind="mention").message
    assert audience(message) == [SubscriptionInfo.objects.get(endpoint__endswith=f"/{alice.pk}").pk]


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("frequency", "hour", "weekday", "zone", "now", "due"),
    [
        ("daily", 8, 0, "UTC", at(2026, 3, 2, 7, 59), at(2026, 3, 2, 8)),
        ("daily", 8, 0, "UTC", at(2026, 3, 2, 8, 0), at(2026, 3, 3, 8)),  # exactly due: the next one
        ("daily", 8, 0, "Europe/Paris", at(2026, 3, 2, 6), at(2026, 3, 2, 7)),  # 08:00 CET
        ("daily", 8, 0, "Europe/Paris", at(2026, 3, 28, 8), at(2026, 3, 29, 6)),  # DST starts: 08:00 CEST
        ("daily", 0, 0, "Pacific/Kiritimati", at(2026, 1, 1, 12), at(2026, 1, 2, 10)),  # UTC+14
        ("weekly", 9, 4, "America/New_York", at(2026, 3, 2, 12), at(2026, 3, 6, 14)),  # Friday 09:00 EST
        ("weekly", 9, 0, "UTC", at(2026, 3, 2, 9, 30), at(2026, 3, 9, 9)),  # Monday, just missed
        ("weekly", 23, 6, "UTC", at(9999, 12, 25), at(9999, 12, 26, 23)),
        ("off", 8, 0, "UTC", at(2026, 3, 2), None),
        ("daily", 8, 0, "Not/AZone", at(2026, 3, 2), at(2026, 3, 2, 8)),  # junk stored: read as UTC
    ],
)
def test_the_next_digest_is_due_at_the_hour_in_the_user_s_time_zone(frequency, hour, weekday, zone, now, due):
    setting = DigestSetting(frequency=frequency, hour=hour, weekday=weekday, timezone=zone)
    assert setting.next_due(now) == due


@pytest.mark.parametrize(
    "value", ["Mars/Olympus", "", "../../etc/passwd", "Europe/Paris\x00", "x" * 10_000, None, 3]
)
def test_junk_time_zones_are_refused(value):
    with pytest.raises(ValidationError, match="Unknown time zone"):
        clean_timezone(value)


def test_real_time_zones_are_kept():
    assert clean_timezone("Europe/Paris") == "Europe/Paris" and clean_timezone("UTC") == "UTC"
