"""The send result says how many recipients who would get the kind by email have no address."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox import kinds
from inbox.api import notify
from inbox.preferences import set_choice


def test_the_summary_counts_recipients_without_an_address(alice, bob, address):
    carol = User.objects.create_user("carol", email="carol@example.com")
    address(alice, "alice@example.com")
    # bob has no address
    sent = notify([alice, bob, carol], "Hi", kind="mention")
    assert sent.no_email == 1
    assert sent.summary == "Sent to 3 recipients (1 has no email address)."

    dave = User.objects.create_user("dave")
    assert (
        notify([bob, dave], "Hi", kind="mention").summary == "Sent to 2 recipients (2 have no email address)."
    )


def test_only_users_who_would_get_it_by_email_are_counted(alice, bob):
    set_choice(bob, "mention", "email", False)
    assert notify([alice, bob], "Hi", kind="mention").no_email == 1  # alice only
    # A kind that emails only users who opt in is not counted (no query): the usual case.
    set_choice(bob, "build.finished", "email", True)
    assert notify([alice, bob], "A build", kind="build.finished").summary == "Sent to 2 recipients."


def test_the_count_is_one_query_more_only_when_the_kind_emails_by_default(alice, bob):
    kinds.register("quiet", "Quiet", channels=("inbox", "digest"))  # emailed only to who opts in
    notify([alice, bob], "Warm-up", kind="mention")
    try:
        with CaptureQueriesContext(connection) as plain:
            notify([alice, bob], "No email", kind="quiet")
    finally:
        kinds.unregister("quiet")
    with CaptureQueriesContext(connection) as emailed:
        notify([alice, bob], "Email", kind="mention")
    assert len(emailed) == len(plain) + 1
    assert any(
        "COUNT(" in q["sql"].upper() for q in emailed.captured_queries[len(plain.captured_queries) - 2 :]
    )
