"""Notification.expires_at, the copy of its message's expiry: every writer keeps it in step.

(tests/conftest.py also checks, after every test that used the database, that each row's copy is
its message's expiry.)
"""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import F
from django.utils import timezone

from inbox.api import notify
from inbox.models import Message, Notification


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
