"""Two first saves of the preferences form at once (a double click): both find no digest row when
their form is made, and both store one. The later one updates the row, never a 500 (issue 18,
item 9)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test import Client

from inbox.preferences import DigestSetting, Preference
from inbox.web import forms

from .test_preferences import DIGEST, PREFERENCES, default_grid

DAILY = default_grid(**{"general:push": False}) | DIGEST | {"frequency": "daily", "hour": "9"}
SENT_UP_TO = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture
def saved_meanwhile(monkeypatch, alice):
    """The other request's row, committed after this request's form found none and before it
    stores its own (the grid is stored first, in the same transaction: the row appears then)."""
    save_choices = forms.save_choices
    row = {"frequency": "weekly", "hour": 7, "weekday": 2, "timezone": "UTC"}

    def and_meanwhile(user, choices):
        DigestSetting.objects.create(user=alice, last_cursor_created=SENT_UP_TO, last_cursor_id=5, **row)
        return save_choices(user, choices)

    monkeypatch.setattr(forms, "save_choices", and_meanwhile)


def test_a_first_save_that_loses_the_race_updates_the_row(alice_client, alice, saved_meanwhile):
    response = alice_client.post(PREFERENCES, DAILY)
    assert response.status_code == 302
    setting = DigestSetting.objects.get(user=alice)
    assert (setting.frequency, setting.hour) == ("daily", 9)  # the later save wins
    assert setting.next_due_at == setting.next_due(setting.next_due_at.replace(hour=0, minute=0))
    # Where the digest stopped is the digest's, not the form's: never put back.
    assert (setting.last_cursor_created, setting.last_cursor_id) == (SENT_UP_TO, 5)
    assert Preference.objects.get().channel == "push"


def test_turning_the_digest_off_in_a_lost_race_turns_the_new_row_off(alice_client, alice, saved_meanwhile):
    assert alice_client.post(PREFERENCES, DAILY | {"frequency": "off"}).status_code == 302
    setting = DigestSetting.objects.get(user=alice)
    assert setting.frequency == "off" and setting.next_due_at is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="transactions that race need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_saves_all_succeed(alice):
    """8 first saves at once (PostgreSQL): every one answered with the redirect, one row."""
    clients = [Client() for _ in range(8)]
    for client in clients:
        client.force_login(alice)
    barrier = threading.Barrier(len(clients))
    outcomes = []

    def save(client):
        try:
            barrier.wait()
            outcomes.append(client.post(PREFERENCES, DAILY).status_code)
        except Exception as error:  # the test client re-raises a view's exception (the 500)
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == [302] * len(clients)
    setting = DigestSetting.objects.get(user=alice)
    assert (setting.frequency, setting.hour, setting.next_due_at is not None) == ("daily", 9, True)
    assert Preference.objects.get().channel == "push"
