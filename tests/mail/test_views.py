"""The pages an email's links open: one-click unsubscribe (RFC 8058) and "mark as read"."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from inbox.api import notify
from inbox.mail.tokens import read_token, unsubscribe_token
from inbox.models import Notification
from inbox.preferences import DigestSetting, Preference


@pytest.fixture
def csrf_client():
    """A browser-like client: CSRF is checked (the test client skips it by default)."""
    return Client(enforce_csrf_checks=True)


def unsubscribe_url(user, kind="mention", channel="email"):
    return reverse("inbox:mail_unsubscribe", args=[unsubscribe_token(user.pk, kind, channel)])


def mention_email_on(user) -> bool:
    return not Preference.objects.filter(user=user, kind="mention", channel="email", enabled=False).exists()


def test_get_shows_a_confirmation_and_changes_nothing(alice, csrf_client):
    response = csrf_client.get(unsubscribe_url(alice))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Stop emails about “Mentions”?" in page
    assert '<button type="submit" class="button primary">Unsubscribe</button>' in page
    assert mention_email_on(alice)


def test_one_click_post_without_login_or_csrf_token_turns_that_kind_off(alice, csrf_client):
    """What a mailbox provider sends: a POST with List-Unsubscribe=One-Click, no cookie."""
    url = unsubscribe_url(alice)
    response = csrf_client.post(
        url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert "You will no longer get emails about “Mentions”." in response.content.decode()
    assert not mention_email_on(alice)
    assert Preference.objects.filter(user=alice).count() == 1  # only that kind, only email

    again = csrf_client.post(url, {"List-Unsubscribe": "One-Click"})  # idempotent
    assert again.status_code == 200
    assert Preference.objects.filter(user=alice).count() == 1


def test_a_digest_link_turns_the_digest_off(alice, csrf_client):
    DigestSetting.objects.create(user=alice, frequency="daily")
    response = csrf_client.post(unsubscribe_url(alice, "", "digest"))
    assert "You will no longer get email digests." in response.content.decode()
    setting = DigestSetting.objects.get(user=alice)
    assert (setting.frequency, setting.next_due_at) == ("off", None)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature altered
        lambda t: unsubscribe_token(999, "mention").split(":")[0] + ":" + t.split(":")[1],  # another user
        lambda t: t.split(":")[0],  # signature cut off
        lambda t: read_token(1, 1),  # a token made for another purpose
        lambda t: "x" * 400,
        lambda t: "%00",
    ],
)
def test_an_altered_token_gets_a_400_and_changes_nothing(alice, csrf_client, mangle):
    token = unsubscribe_token(alice.pk, "mention")
    response = csrf_client.post(f"/inbox/mail/unsubscribe/{mangle(token)}/")
    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()
    assert not Preference.objects.exists()


def test_a_locked_kind_cannot_be_unsubscribed(alice, csrf_client):
    response = csrf_client.post(unsubscribe_url(alice, "security"))
    assert response.status_code == 400
    assert "Security alerts always reach you this way." in response.content.decode()
    assert not Preference.objects.exists()


def test_an_unknown_kind_or_user_is_a_404(alice, csrf_client):
    assert csrf_client.post(unsubscribe_url(alice, "no.such.kind")).status_code == 404
    token = unsubscribe_token(10**9, "mention")
    assert csrf_client.post(f"/inbox/mail/unsubscribe/{token}/").status_code == 404


def test_other_methods_are_refused(alice, csrf_client):
    assert csrf_client.put(unsubscribe_url(alice)).status_code == 405


def test_the_unsubscribe_link_is_rate_limited(settings, alice, csrf_client):
    settings.INBOX_ANONYMOUS_RATE = "2/m"
    url = unsubscribe_url(alice)
    assert [csrf_client.get(url).status_code for _ in range(3)] == [200, 200, 429]


def read_url(user, notification):
    return reverse("inbox:mail_read", args=[read_token(user.pk, notification.pk)])


def test_mark_read_link_shows_the_notification_then_a_post_marks_it_read(alice, csrf_client):
    notify(alice, "Disk almost full", kind="mention")
    notification = Notification.objects.get(recipient=alice)
    url = read_url(alice, notification)

    page = csrf_client.get(url)
    assert page.status_code == 200
    assert "Disk almost full" in page.content.decode()
    assert Notification.objects.get(pk=notification.pk).read_at is None  # a GET changes nothing

    assert csrf_client.post(url).status_code == 403  # the page's form carries a CSRF token
    response = csrf_client.post(url, {"csrfmiddlewaretoken": page.context["csrf_token"]})
    assert response.status_code == 200
    assert "This notification is read." in response.content.decode()
    assert Notification.objects.get(pk=notification.pk).read_at is not None


def test_a_read_token_reads_only_its_own_users_notification(alice, bob, csrf_client):
    notify(bob, "Bob's", kind="mention")
    bobs = Notification.objects.get(recipient=bob)
    response = csrf_client.get(reverse("inbox:mail_read", args=[read_token(alice.pk, bobs.pk)]))
    assert response.status_code == 404
    assert "Bob's" not in response.content.decode()


def test_an_altered_read_token_is_a_400(alice, csrf_client):
    notify(alice, "Hi", kind="mention")
    token = read_token(alice.pk, Notification.objects.get().pk)
    response = csrf_client.get(f"/inbox/mail/read/{token[:-2]}xx/")
    assert response.status_code == 400
    assert unsubscribe_token(alice.pk, "mention") not in response.content.decode()
    assert (
        csrf_client.get(reverse("inbox:mail_read", args=[unsubscribe_token(alice.pk, "x")])).status_code
        == 400
    )


def test_an_old_read_token_is_refused(settings, alice, csrf_client):
    settings.INBOX_MAIL_READ_TOKEN_DAYS = 0
    notify(alice, "Hi", kind="mention")
    response = csrf_client.get(read_url(alice, Notification.objects.get()))
    assert response.status_code == 400
