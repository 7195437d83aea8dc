"""Notification.expires_at, the copy of its message's expiry: every writer keeps it in step, and
every read of "is it expired?" takes it from there.

(tests/conftest.py also checks, after every test that used the database, that each row's copy is
its message's expiry.)
"""

from __future__ import annotations

import re
from datetime import timedelta
from importlib import import_module
from io import StringIO

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from inbox.api import notify
from inbox.badge import count_unread
from inbox.models import Message, Notification
from inbox.realtime import queries
from inbox.web.rows import newest_rows
from tests.test_admin import message_data


def copies(message) -> set:
    return set(Notification.objects.filter(message=message).values_list("expires_at", flat=True))


def soon(**delta):
    return timezone.now() + timedelta(**delta)


@pytest.mark.parametrize("to", ["one user", "a list", "a queryset", "a group"])
def test_notify_copies_the_expiry_onto_every_row(to, team, alice, bob):
    expires = soon(hours=2)
    recipients = {
        "one user": alice,
        "a list": [alice, bob],
        "a queryset": User.objects.filter(pk__in=[alice.pk, bob.pk]),
        "a group": team,
    }[to]
    sent = notify(recipients, "Soon gone", expires_at=expires)
    assert copies(sent.message) == {expires}
    assert Notification.objects.count() == sent.count


def test_notify_without_an_expiry_leaves_the_copy_empty(alice, bob):
    assert copies(notify([alice, bob], "For good").message) == {None}


def test_a_row_created_through_the_orm_takes_its_message_expiry(alice, bob, django_assert_num_queries):
    expires = soon(hours=1)
    message = Message.objects.create(text="Hi", expires_at=expires)
    with django_assert_num_queries(1):  # the INSERT reads the message's expiry itself
        row = Notification.objects.create(recipient=alice, message=message)
    assert row.expires_at == expires  # returned by the INSERT
    wrong = Notification(recipient=bob, message_id=message.pk, expires_at=soon(days=9))
    wrong.save()  # a value given is replaced: the copy is the message's
    assert wrong.expires_at == expires and copies(message) == {expires}


def test_a_row_given_a_message_saved_after_it_takes_that_message_expiry(alice):
    message = Message(text="Later", expires_at=soon(hours=1))
    row = Notification(recipient=alice, message=message)
    message.save()
    row.save()
    assert copies(message) == {message.expires_at}


def test_bulk_created_rows_take_their_message_expiry(alice, bob):
    expiring = Message.objects.create(text="Expiring", expires_at=soon(hours=1))
    lasting = Message.objects.create(text="Lasting")
    rows = Notification.objects.bulk_create(
        [
            Notification(recipient=alice, message=expiring),
            Notification(recipient=bob, message=expiring, expires_at=None),
            Notification(recipient=alice, message=lasting, expires_at=soon(hours=1)),
        ]
    )
    assert copies(expiring) == {expiring.expires_at} and copies(lasting) == {None}
    assert rows[0].expires_at == expiring.expires_at  # read from the database on first use


def test_saving_a_message_rewrites_its_rows_copies_when_its_expiry_changed(
    alice, bob, django_assert_num_queries
):
    sent = notify([alice, bob], "Moving", expires_at=soon(hours=1))
    message = Message.objects.get(pk=sent.message.pk)
    message.text = "Still moving"
    with django_assert_num_queries(1):  # the expiry is as loaded: the message's UPDATE alone
        message.save()
    message.expires_at = later = soon(days=1)
    with django_assert_num_queries(2):  # and one UPDATE of its rows' copies
        message.save()
    assert copies(message) == {later}
    message.expires_at = None
    message.save(update_fields=["expires_at"])
    assert copies(message) == {None}
    message.expires_at = F("created") + timedelta(hours=3)  # an expression: the stored value
    message.save()
    assert message.expires_at == message.created + timedelta(hours=3)
    assert copies(message) == {message.expires_at}


def test_a_message_saved_from_an_instance_not_loaded_rewrites_the_copies(alice):
    sent = notify(alice, "Rebuilt", expires_at=soon(hours=1))
    created = sent.message.created
    again = Message(pk=sent.message.pk, text="Rebuilt", created=created, expires_at=soon(hours=5))
    again.save()
    assert copies(sent.message) == {again.expires_at}


def test_a_queryset_update_of_messages_rewrites_their_rows_copies(alice, bob):
    a = notify([alice, bob], "A", expires_at=soon(hours=1)).message
    b = notify(alice, "B").message
    when = soon(hours=4)
    assert Message.objects.filter(pk=a.pk).update(expires_at=when) == 1
    assert copies(a) == {when} and copies(b) == {None}
    # An expression: each message its own value.
    Message.objects.filter(pk__in=[a.pk, b.pk]).update(expires_at=F("created") + timedelta(days=1))
    for message in (a, b):
        message.refresh_from_db()
        assert copies(message) == {message.created + timedelta(days=1)}
    a.expires_at, b.expires_at = None, soon(minutes=30)
    Message.objects.bulk_update([a, b], ["expires_at"])  # a CASE per message
    assert copies(a) == {None} and copies(b) == {b.expires_at}


def test_the_migration_fills_the_copies_from_the_messages(alice, bob):
    a = notify([alice, bob], "A", expires_at=soon(hours=1)).message
    b = notify(alice, "B").message
    Notification.objects.update(expires_at=None)  # as the column is after 0009
    with connection.cursor() as cursor:
        cursor.execute(import_module("inbox.migrations.0010_unread_visible_index").BACKFILL)
    assert copies(a) == {a.expires_at} and copies(b) == {None}


# What reads the copy: every "is it expired?" of a notification, so they all agree.


def visible_texts(client) -> dict:
    """What alice's badge, lists and dropdown show, through the views."""
    badge = client.get(reverse("inbox:badge")).content.decode()
    return {
        "badge": re.search(r"Notifications, (\S+) unread", badge)[1],
        "all": client.get(reverse("inbox:index")).content.decode(),
        "unread": client.get(reverse("inbox:index"), {"filter": "unread"}).content.decode(),
        "dropdown": client.get(reverse("inbox:dropdown")).content.decode(),
    }


def test_expired_notifications_are_neither_counted_nor_listed(alice_client, alice):
    notify(alice, "Lasting")
    gone = notify(alice, "Gone by now", expires_at=soon(hours=1)).message
    Message.objects.filter(pk=gone.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    shown = visible_texts(alice_client)
    assert shown["badge"] == "1"
    for page in ("all", "unread", "dropdown"):
        assert "Lasting" in shown[page] and "Gone by now" not in shown[page], page


@pytest.fixture
def editor(staff):
    """A staff user who may change messages in the admin (and nothing else)."""
    staff.user_permissions.add(Permission.objects.get(codename="change_message"))
    client = Client()
    client.force_login(staff)
    return client


def change_expiry(editor, message, expires_at):
    shown = timezone.localtime(expires_at)
    data = message_data(
        text=message.text,
        url=message.url,
        created_0=timezone.localtime(message.created).strftime("%Y-%m-%d"),
        created_1=timezone.localtime(message.created).strftime("%H:%M:%S"),
        expires_at_0=shown.strftime("%Y-%m-%d"),
        expires_at_1=shown.strftime("%H:%M:%S"),
    )
    response = editor.post(reverse("admin:inbox_message_change", args=[message.pk]), data)
    assert response.status_code == 302, response.content.decode()


def test_an_admin_extending_an_expired_message_brings_it_back(editor, alice_client, alice, bob):
    sent = notify([alice, bob], "Back again", url="/inbox/", expires_at=soon(hours=1))
    Message.objects.filter(pk=sent.message.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    before = visible_texts(alice_client)
    assert before["badge"] == "0" and "Back again" not in before["all"]
    later = soon(days=2).replace(microsecond=0)
    change_expiry(editor, sent.message, later)
    assert copies(sent.message) == {later}
    after = visible_texts(alice_client)
    assert after["badge"] == "1"
    for page in ("all", "unread", "dropdown"):
        assert "Back again" in after[page], page


def test_an_admin_shortening_an_expiry_hides_the_message_when_it_passes(
    editor, alice_client, alice, bob, monkeypatch
):
    sent = notify([alice, bob], "Short lived", url="/inbox/", expires_at=soon(days=1))
    sooner = soon(minutes=10).replace(microsecond=0)
    change_expiry(editor, sent.message, sooner)
    assert copies(sent.message) == {sooner}
    assert visible_texts(alice_client)["badge"] == "1"
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(minutes=11))
    shown = visible_texts(alice_client)
    assert shown["badge"] == "0"
    for page in ("all", "unread", "dropdown"):
        assert "Short lived" not in shown[page], page


@pytest.mark.expiry_copies_differ
def test_every_read_of_notifications_takes_the_expiry_from_the_row(alice):
    """The message says "not expired", the rows' copy says "expired": every count, list and
    catch-up follows the copy (a read that joined the message for its expiry would disagree)."""
    kept = notify(alice, "Kept")
    hidden = notify(alice, "Hidden by its copy")
    Notification.objects.filter(message=hidden.message).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    kept_row, hidden_row = (Notification.objects.get(message=sent.message) for sent in (kept, hidden))

    assert count_unread(alice, 10) == 1
    assert [r.pk for r in newest_rows(alice, 10)] == [kept_row.pk]
    assert [r.pk for r in newest_rows(alice, 10, unread=True)] == [kept_row.pk]
    assert [n.pk for n in Notification.objects.for_user(alice).visible()] == [kept_row.pk]
    assert queries.unread_counts([alice.pk]) == {alice.pk: 1}
    assert [row.unread for row in queries.sent_rows(kept.message.pk, [alice.pk])[1]] == [1]
    assert [n.pk for n in queries.dropdown_items(alice.pk)] == [kept_row.pk]
    assert [n.pk for n in queries.newer(alice.pk, "all", None, 10)] == [kept_row.pk]
    assert list(queries.notifications(alice.pk, [kept_row.pk, hidden_row.pk])) == [kept_row.pk]

    # And the other way round for "Kept" (its message expired, its row's copy not, by an UPDATE
    # that bypasses the copy): purge goes by the copy too.
    Message._base_manager.filter(pk=kept.message.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    out = StringIO()
    call_command("purge_notifications", stdout=out)
    assert out.getvalue().startswith("Deleted 1 expired ")
    assert list(Notification.objects.values_list("pk", flat=True)) == [kept_row.pk]
    assert list(Message.objects.values_list("pk", flat=True)) == [kept.message.pk]


def test_the_realtime_expiry_finds_the_rows_that_expired_in_its_window(alice, bob):
    sent = notify([alice, bob], "Flash", expires_at=soon(minutes=1))
    until = soon(minutes=2)
    found = queries.expired_rows(timezone.now(), until, [alice.pk, bob.pk])
    assert sorted(user for _pk, user, _unread in found) == [alice.pk, bob.pk]
    Message.objects.filter(pk=sent.message.pk).update(expires_at=soon(minutes=5))  # moved later
    assert queries.expired_rows(timezone.now(), until, [alice.pk, bob.pk]) == []
