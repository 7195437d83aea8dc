"""`make run`'s demo data (seed_demo) and the login page's demo hint."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from importlib import import_module
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.urls import include, path, reverse
from django.utils import timezone
from django.utils.html import strip_tags

from inbox import kinds
from inbox.management.commands.seed_demo import PASSWORD
from inbox.models import Level, Message, Notification

LOGIN = reverse("login")


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def visible_text(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(strip_tags(response.content.decode())))


@pytest.fixture
def seeded(db):
    seed()
    return {user.username: user for user in User.objects.all()}


def test_alice_sees_every_level_links_and_plain_items_read_and_unread(seeded):
    rows = Notification.objects.for_user(seeded["alice"]).select_related("message")
    assert {n.message.level for n in rows} == set(Level.values)
    assert any(n.message.url for n in rows) and any(not n.message.url for n in rows)
    assert any(n.is_read for n in rows) and any(not n.is_read for n in rows)
    texts = [n.message.text for n in rows]
    assert len(texts) >= 10 and len(set(texts)) == len(texts)  # not thirty copies of one line


def test_alice_s_inbox_shows_every_kind_of_the_demo(seeded):
    shown = set(Message.objects.filter(deliveries__recipient=seeded["alice"]).values_list("kind", flat=True))
    assert shown == {kind.key for kind in kinds.all()}


def test_on_a_site_without_the_demo_kinds_everything_is_general(db):
    for key in ("mention", "build.finished", "announcement", "security"):
        kinds.unregister(key)
    try:
        seed()
    finally:
        import_module("config.kinds").__loader__.exec_module(import_module("config.kinds"))
    assert set(Message.objects.values_list("kind", flat=True)) == {"general"}
    assert kinds.get("security").must_deliver  # registered again for the other tests


def test_one_notification_expires_within_a_day(seeded):
    soon = timezone.now() + timedelta(days=1)
    expiring = Message.objects.filter(expires_at__gt=timezone.now(), expires_at__lt=soon)
    assert expiring.count() == 1
    assert Notification.objects.for_user(seeded["alice"]).visible().filter(message__in=expiring).exists()
    rows = Notification.objects.filter(message__in=expiring)
    assert set(rows.values_list("expires_at", flat=True)) == {expiring.get().expires_at}  # the copy


def test_the_team_broadcast_reaches_the_team_and_no_one_else(seeded):
    team = {user.pk for user in User.objects.filter(groups__name="team")}
    assert team == {seeded[name].pk for name in ("admin", "alice", "bob")}
    broadcast = Message.objects.get(text__startswith="Deploying v2.4.0")
    assert set(broadcast.deliveries.values_list("recipient", flat=True)) == team
    assert not Notification.objects.for_user(seeded["carol"]).filter(message=broadcast).exists()


def test_the_messages_span_days_in_the_past_and_page_in_that_order(seeded, client):
    now = timezone.now()
    rows = Notification.objects.for_user(seeded["alice"]).select_related("message").newest_first()
    assert all(n.created == n.message.created <= now for n in rows)
    assert all(n.read_at is None or n.created <= n.read_at <= now for n in rows)
    assert len({timezone.localdate(n.created) for n in rows}) >= 3

    client.force_login(seeded["alice"])
    text = visible_text(client.get(reverse("inbox:index")))
    shown = [n.message.text for n in rows.visible()]
    assert [text.index(message) for message in shown] == sorted(text.index(message) for message in shown)
    assert "4 minutes ago" in text and "1 day, 3 hours ago" in text and "1 week, 6 days ago" in text


def test_seeding_again_adds_nothing_and_reset_starts_over(seeded):
    counts = (Message.objects.count(), Notification.objects.count())
    assert "alice  user" in seed()
    assert (Message.objects.count(), Notification.objects.count()) == counts
    Notification.objects.for_user(seeded["alice"]).first().delete()  # what a visitor did
    seed()
    assert Notification.objects.count() == counts[1] - 1
    seed("--reset")
    assert (Message.objects.count(), Notification.objects.count()) == counts


def test_other_users_get_nothing(db):
    dave = User.objects.create_user("dave")
    seed()
    assert not Notification.objects.for_user(dave).exists()


def test_an_existing_user_keeps_their_password(db):
    User.objects.create_user("alice", password="her own")
    seed()
    assert User.objects.get(username="alice").check_password("her own")


def test_the_login_page_names_the_demo_logins_while_they_work(seeded, client):
    text = visible_text(client.get(LOGIN))
    assert "Demo logins" in text
    assert f"alice / {PASSWORD} (user)" in text
    assert f"admin / {PASSWORD} (staff: can send notifications)" in text

    alice = seeded["alice"]
    alice.set_password("changed")
    alice.save()
    text = visible_text(client.get(LOGIN))
    assert "alice /" not in text and f"admin / {PASSWORD}" in text


def test_without_the_demo_users_the_login_page_has_no_hint(db, client, alice):
    assert "Demo logins" not in visible_text(client.get(LOGIN))
    User.objects.create_user("admin", password="not the demo one")
    assert "Demo logins" not in visible_text(client.get(LOGIN))


def test_the_hint_costs_one_query_and_only_the_login_page(seeded, client, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert client.get(LOGIN).status_code == 200
    client.force_login(seeded["alice"])
    assert "Demo logins" not in visible_text(client.get(reverse("inbox:preferences")))


def test_deactivated_demo_users_are_a_one_line_error_and_nothing_is_written(db):
    for name in ("alice", "admin", "bob"):
        User.objects.create_user(name, is_active=False)
    with pytest.raises(CommandError, match="Cannot seed the demo: There are no recipients"):
        seed()
    assert not Message.objects.exists() and not Notification.objects.exists()


urlpatterns = [path("inbox/", include("inbox.urls"))]  # a host site without the admin


def test_on_a_site_without_the_admin_the_lockout_notice_has_no_link(db, settings):
    settings.ROOT_URLCONF = __name__
    seed()
    lockout = Message.objects.get(text__startswith="5 failed sign-ins")
    assert lockout.url == ""


def test_every_demo_user_has_an_email_address_so_email_can_be_tried(seeded):
    """README, "Email and digests": the demo's emails land in var/mail/, which needs addresses."""
    for username in ("alice", "admin", "bob", "carol"):
        assert seeded[username].email == f"{username}@example.com"


def test_an_existing_user_keeps_their_address_and_one_without_gets_one(db):
    User.objects.create_user("alice", email="alice@her.example")
    User.objects.create_user("bob")
    seed()
    assert User.objects.get(username="alice").email == "alice@her.example"
    assert User.objects.get(username="bob").email == "bob@example.com"
