"""The core and the web UI alone, where no library of an extra can be imported (no webpush,
pywebpush, Channels, ...): their migrations are complete and run on a new database, and the
dashboard, the bell's badge and dropdown and an action work (tests/without_extras_site.py, in its own
process). tests/e2e/test_host_project.py does the same with a real install without extras."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SITE = Path(__file__).resolve().parent / "without_extras_site.py"


def test_the_core_and_the_web_ui_migrate_and_work_without_the_extras_libraries(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    done = subprocess.run(
        [sys.executable, SITE], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    seen = json.loads(done.stdout)
    assert seen["status"] == {"dashboard": 200, "badge": 200, "dropdown": 200, "read": 200}
    assert "Hello from the core" in seen["dashboard"]
    assert seen["unread_after_read"] == 0


def test_an_app_listed_without_its_libraries_is_named_by_check_and_migrate(tmp_path):
    """inbox.push and inbox.realtime in INSTALLED_APPS, webpush and Channels not installed: check
    and migrate stop with inbox.E007 naming each extra, not with a traceback at start-up."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    done = subprocess.run(
        [sys.executable, SITE, "apps-without-libraries"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    said = json.loads(done.stdout)
    for command in ("check", "migrate"):
        assert "inbox.E007" in said[command], said
        assert "[push]" in said[command] and "[realtime]" in said[command], said
