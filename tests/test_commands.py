from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, ManagementUtility, call_command
from django.db import connections
from django.db.models import Q
from django.utils import timezone

from inbox.models import Message, Notification
from inbox.push.models import PushReceipt
from inbox.realtime.models import RealtimeEvent

ROOT = Path(__file__).resolve().parent.parent


def send(*args):
    out = StringIO()
    call_command("send_notification", *args, stdout=out)
    return out.getvalue()


def test_send_to_users(alice, bob):
    assert send("Deploy at five", "--user", "alice", "--user", "bob") == "Sent to 2 recipients.\n"
    assert Notification.objects.filter(message__text="Deploy at five").count() == 2


def test_send_to_a_group_with_every_option(team, staff):
    output = send(
        "Hi team",
        "--group",
        "team",
        "--url",
        "https://example.com/x",
        "--level",
        "warning",
        "--expires-in",
        "1h30m",
    )
    assert output == "Sent to 2 recipients.\n"
    message = Message.objects.get()
    assert (message.url, message.level) == ("https://example.com/x", "warning")
    expected = timezone.now() + timedelta(minutes=90)
    assert abs((message.expires_at - expected).total_seconds()) < 5


def test_send_to_all_active_users(alice, bob, staff):
    bob.is_active = False
    bob.save()
    assert send("Everyone", "--all-users") == "Sent to 2 recipients.\n"


def test_users_and_groups_combine_without_duplicates(team, alice, staff):
    assert send("Mixed", "--user", "alice", "--user", "sam", "--group", "team") == "Sent to 3 recipients.\n"


def test_expires_at_a_date_in_the_site_time_zone(alice):
    year = timezone.now().year + 1
    send("Dated", "--user", "alice", "--expires", f"{year}-12-31T12:00")
    assert Message.objects.get().expires_at.isoformat() == f"{year}-12-31T12:00:00+00:00"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["Hi", "--user", "nobody"], "Unknown user: nobody"),
        (["Hi", "--user", "alice", "--group", "ghosts"], "Unknown group: ghosts"),
        (["", "--user", "alice"], "The message is empty"),
        (["Hi", "--user", "alice", "--level", "loud"], "Unknown level 'loud'"),
        (["Hi", "--user", "alice", "--expires", "next tuesday"], "is not a date and time"),
        (["Hi", "--user", "alice", "--expires", "2000-01-01T00:00"], "in the past"),
        (["Hi", "--user", "alice", "--expires-in", "soon"], "is not a duration"),
        (["Hi", "--user", "alice", "--expires-in", "0h"], "longer than zero"),
        (["Hi", "--user", "alice", "--expires", "2999-01-01", "--expires-in", "1h"], "not both"),
        (["Hi", "--user", "alice", "--url", "javascript:alert(1)"], "http"),
        (["Hi"], "Choose the recipients"),
        # --all-users contradicts naming recipients: refused, not a send to everyone.
        (["Hi", "--all-users", "--user", "nobody"], "--all-users or --user/--group, not both"),
        (["Hi", "--all-users", "--user", "alice"], "--all-users or --user/--group, not both"),
        (["Hi", "--all-users", "--group", "ghosts"], "--all-users or --user/--group, not both"),
        # Out of range: each was a traceback (OverflowError).
        (["Hi", "--user", "alice", "--expires-in", "999999999999w"], "too long: at most 3650 days"),
        (["Hi", "--user", "alice", "--expires-in", "3000000d"], "too long"),
        (["Hi", "--user", "alice", "--expires-in", "99999999999999999999s"], "too long"),
        (["Hi", "--user", "alice", "--expires-in", "9" * 5000 + "s"], "too long"),
        (["Hi", "--user", "alice", "--expires-in", "3651d"], "too long"),
        (["Hi", "--user", "alice", "--expires-in", "٣d"], "is not a duration"),
        (["Hi", "--user", "alice", "--expires", "9999-12-31T23:59:59-05:00"], "too far ahead"),
        (["Hi", "--user", "alice", "--expires", "2999-01-01T00:00"], "too far ahead"),
    ],
)
def test_bad_input_is_a_one_line_error_and_sends_nothing(alice, args, error):
    with pytest.raises(CommandError, match=error) as raised:
        send(*args)
    assert "\n" not in str(raised.value)
    assert not Message.objects.exists()


def test_a_failing_command_exits_non_zero_with_one_line_on_stderr(alice, capsys, monkeypatch):
    # run_from_argv closes the connections when it ends, which would end the test's transaction.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "send_notification", "Hi", "--user", "nobody"]).execute()
    assert exited.value.code != 0
    assert capsys.readouterr().err.strip() == "CommandError: Unknown user: nobody."
    assert not Message.objects.exists()


def test_purge_deletes_expired_and_optionally_old_read(alice, make_notifications):
    make_notifications(alice, 3, expired=True)
    old_read = make_notifications(alice, 2, read=True)
    Notification.objects.filter(pk__in=[n.pk for n in old_read]).update(
        created=timezone.now() - timedelta(days=40)
    )
    make_notifications(alice, 4)
    out = StringIO()
    call_command("purge_notifications", stdout=out)
    assert (
        out.getvalue()
        == "Deleted 3 expired and 0 old read notifications; 0 old real-time events, 0 old push receipts.\n"
    )
    assert Notification.objects.count() == 6
    call_command("purge_notifications", "--read-older-than", "30", stdout=out)
    assert Notification.objects.count() == 4
    assert Message.objects.count() == 4  # messages nobody holds any more are gone too


def test_purge_has_an_index_of_the_expiring_rows_only(db):
    """Not one pass over every notification: the expired rows are found through an index of
    expires_at, which holds only the rows that expire."""
    connection = connections["default"]
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, Notification._meta.db_table)
    assert found["inbox_expiring"]["index"] and found["inbox_expiring"]["columns"] == ["expires_at"]
    (index,) = [i for i in Notification._meta.indexes if i.name == "inbox_expiring"]
    assert index.condition == Q(expires_at__isnull=False)


def test_purge_leaves_out_the_apps_not_installed(alice, make_notifications, leave_out):
    """The core alone purges notifications: the apps' rows are theirs (inbox.purges)."""
    leave_out("inbox.push", "inbox.realtime")
    make_notifications(alice, 2, expired=True)
    out = StringIO()
    call_command("purge_notifications", stdout=out)
    assert out.getvalue() == "Deleted 2 expired and 0 old read notifications.\n"
    assert not Notification.objects.exists()


def test_old_real_time_events_are_purged(settings, alice):
    settings.INBOX_REALTIME_EVENT_MINUTES = 5
    old = RealtimeEvent.objects.create(payload={"type": "old"})
    RealtimeEvent.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(minutes=6))
    RealtimeEvent.objects.create(payload={"type": "new"})
    out = StringIO()
    call_command("purge_notifications", stdout=out)
    assert "1 old real-time events" in out.getvalue()
    assert list(RealtimeEvent.objects.values_list("payload__type", flat=True)) == ["new"]


@pytest.mark.parametrize("days", ["99999999999", "36501", "-1", "ten", "9" * 5000, "٣"])
def test_purge_with_days_out_of_range_is_a_one_line_error_and_deletes_nothing(
    alice, make_notifications, days
):
    make_notifications(alice, 2, read=True)
    make_notifications(alice, 1, expired=True)
    with pytest.raises(CommandError, match="from 0 to 36500") as raised:
        call_command("purge_notifications", f"--read-older-than={days}", stdout=StringIO())
    assert "\n" not in str(raised.value)
    assert Notification.objects.count() == 3


def test_purge_accepts_the_largest_bound(alice, make_notifications):
    make_notifications(alice, 2, read=True)
    call_command("purge_notifications", "--read-older-than", "36500", stdout=StringIO())
    call_command("purge_notifications", read_older_than=0, stdout=StringIO())
    assert Notification.objects.count() == 0


def test_purge_dry_run_deletes_nothing(alice, make_notifications):
    make_notifications(alice, 3, expired=True)
    out = StringIO()
    call_command("purge_notifications", "--dry-run", stdout=out)
    assert out.getvalue() == (
        "Would delete 3 expired and 0 old read notifications; 0 old real-time events, 0 old push receipts.\n"
    )
    assert Notification.objects.count() == 3


def test_purge_deletes_push_receipts_older_than_the_setting(settings, alice, make_notifications):
    settings.INBOX_PUSH_RECEIPT_DAYS = 7
    message = make_notifications(alice, 1)[0].message
    now = timezone.now()
    for subscription_id, age in enumerate([timedelta(days=8), timedelta(days=6), timedelta(0)]):
        PushReceipt.objects.create(message=message, subscription_id=subscription_id, sent_at=now - age)
    line = "0 expired and 0 old read notifications; 0 old real-time events, 1 old push receipts.\n"
    out = StringIO()
    call_command("purge_notifications", "--dry-run", stdout=out)
    assert out.getvalue() == f"Would delete {line}"
    assert PushReceipt.objects.count() == 3
    out = StringIO()
    call_command("purge_notifications", stdout=out)
    assert out.getvalue() == f"Deleted {line}"
    assert sorted(PushReceipt.objects.values_list("subscription_id", flat=True)) == [1, 2]
    assert Notification.objects.count() == 1  # the message and its notification stay


def test_a_real_run_with_an_overflowing_duration_prints_one_line(tmp_path):
    """The whole command line, in its own process: no traceback, one line, exit status 1."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db",
    }
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "send_notification",
            "Hi",
            "--all-users",
            "--expires-in",
            "999999999999w",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == ["CommandError: --expires-in is too long: at most 3650 days."]
    assert "Traceback" not in result.stderr and result.stdout == ""
