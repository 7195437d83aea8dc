"""The cache the rate limits count in exists after `migrate` alone (no `createcachetable`), and a
system check names a database cache whose table is missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core import checks
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from inbox.mail.tokens import unsubscribe_token
from inbox.push.tokens import read_token

TABLE = settings.CACHES["default"]["LOCATION"]


def drop_cache_table():
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {connection.ops.quote_name(TABLE)}")


def cache_table_exists() -> bool:
    return TABLE in connection.introspection.table_names()


@pytest.fixture
def without_cache_table(transactional_db):
    """A database as `migrate` leaves it before anyone ran `createcachetable`."""
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    drop_cache_table()
    yield
    if not cache_table_exists():  # leave the next tests the table Django's test runner made
        call_command("createcachetable", verbosity=0)


def test_migrate_creates_the_cache_table(without_cache_table):
    assert not cache_table_exists()
    call_command("migrate", verbosity=0)
    assert cache_table_exists()


def test_after_migrate_the_pages_without_login_answer(without_cache_table, alice, make_notifications):
    call_command("migrate", verbosity=0)
    client = Client(raise_request_exception=False)
    note = make_notifications(alice, 1)[0]
    unsubscribe = reverse("inbox:mail_unsubscribe", args=[unsubscribe_token(alice.pk, "mention", "email")])

    assert client.get(unsubscribe).status_code == 200
    one_click = client.post(
        unsubscribe, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert one_click.status_code == 200
    read = client.post(
        reverse("inbox:push_read"),
        json.dumps({"token": read_token(note.pk)}),
        content_type="application/json",
    )
    assert read.status_code == 204
    renew = {"old_endpoint": "https://push.example.com/gone", "old_auth": "x" * 22, "subscription": {}}
    response = client.post(reverse("inbox:push_renew"), json.dumps(renew), content_type="application/json")
    assert response.status_code in (400, 403)  # refused for what it says, not a 500


def test_the_check_names_a_missing_cache_table(without_cache_table):
    errors = checks.run_checks(databases=["default"])
    missing = [error for error in errors if error.id == "inbox.E005"]
    assert len(missing) == 1
    assert TABLE in missing[0].msg
    assert "createcachetable" in missing[0].hint


def test_the_check_is_quiet_when_the_table_exists(db):
    assert [error for error in checks.run_checks(databases=["default"]) if error.id == "inbox.E005"] == []


def test_the_check_does_not_touch_the_database_without_a_database_alias(without_cache_table):
    """`manage.py check` (and `check --deploy`) without --database run no database check."""
    assert [
        error for error in checks.run_checks(include_deployment_checks=True) if error.id == "inbox.E005"
    ] == []


def test_a_fresh_database_migrates_with_the_checks_on_and_then_passes_them(tmp_path):
    """`manage.py migrate` runs the database checks first, on a database without the table:
    the check must not stop the run that creates it."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"}
    env.pop("TEST_DB_NAME", None)
    manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
    migrate = subprocess.run([*manage, "migrate", "-v0"], env=env, capture_output=True, text=True)
    assert migrate.returncode == 0, migrate.stderr
    check = subprocess.run(
        [*manage, "check", "--database", "default"], env=env, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
