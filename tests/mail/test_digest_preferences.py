"""The preferences form and the digest run write the same row: the form sets the schedule, the
run the cursor and the last sending. A save never puts back where the digest stopped, whatever
was sent between the moment the form read the row and the moment it saved."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from inbox.api import notify
from inbox.mail.digests import run_digests
from inbox.preferences import DigestSetting
from inbox.web import forms
from tests.web.test_preferences import DIGEST, PREFERENCES, default_grid

WEEKLY = default_grid() | DIGEST | {"frequency": "weekly", "hour": "20", "weekday": "4"}
CURSOR = ("last_cursor_created", "last_cursor_id", "last_sent_at")


@pytest.fixture(autouse=True)
def no_settling(settings):
    settings.INBOX_DIGEST_SETTLE_SECONDS = 0


@pytest.fixture
def digest_due(alice, smtp):
    """Alice with an address, a daily digest due now, a digest already sent (her
    cursor) and a new mention waiting for the next one."""
    alice.email = "alice@example.com"
    alice.save()
    notify(alice, "Old news", kind="mention")
    DigestSetting.objects.create(
        user=alice, frequency="daily", hour=8, next_due_at=timezone.now() - timedelta(hours=1)
    )
    assert run_digests() == {"sent": 1, "batches": 1}
    DigestSetting.objects.filter(user=alice).update(next_due_at=timezone.now() - timedelta(minutes=1))
    notify(alice, "New since then", kind="mention")
    return DigestSetting.objects.get(user=alice)


def cursor(user) -> tuple:
    return DigestSetting.objects.filter(user=user).values_list(*CURSOR).get()


@pytest.mark.parametrize("frequency", ["weekly", "off"])
def test_a_form_read_before_a_digest_went_out_keeps_the_digests_cursor(alice, digest_due, smtp, frequency):
    form = forms.PreferencesForm(alice, data=WEEKLY | {"frequency": frequency})
    assert run_digests() == {"sent": 1, "batches": 1}
    moved = cursor(alice)
    assert moved != tuple(getattr(digest_due, name) for name in CURSOR)

    assert form.is_valid(), form.errors
    form.save()

    assert cursor(alice) == moved
    assert DigestSetting.objects.get(user=alice).frequency == frequency
    assert "New since then" in smtp.received[-1].text


def test_a_digest_sent_while_the_page_saves_keeps_its_cursor(
    alice, alice_client, digest_due, smtp, monkeypatch
):
    """Through the page: the digest goes out after the view made its form, before it saved."""
    save_choices = forms.save_choices
    sent = []

    def digest_meanwhile(user, choices):
        sent.append(run_digests())
        return save_choices(user, choices)

    monkeypatch.setattr(forms, "save_choices", digest_meanwhile)
    assert alice_client.post(PREFERENCES, WEEKLY).status_code == 302

    assert sent == [{"sent": 1, "batches": 1}]
    setting = DigestSetting.objects.get(user=alice)
    assert setting.last_sent_at > digest_due.last_sent_at
    assert (setting.last_cursor_created, setting.last_cursor_id) > (
        digest_due.last_cursor_created,
        digest_due.last_cursor_id,
    )
    assert (setting.frequency, setting.hour, setting.weekday) == ("weekly", 20, 4)


def test_saving_the_form_leaves_a_running_digests_lease_alone(alice, digest_due, smtp):
    from inbox.mail.digests import claim

    form = forms.PreferencesForm(alice, data=WEEKLY)  # reads the row before the run claims it
    batch = claim(timezone.now(), 10)
    assert form.is_valid(), form.errors
    form.save()

    setting = DigestSetting.objects.get(user=alice)
    assert (setting.lease_token, setting.leased_until is not None) == (batch.token, True)
