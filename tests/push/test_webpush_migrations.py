"""`migrate` on the site's settings says nothing about django-webpush's models: its 0.3.6 release
lacks a migration, which the site supplies (inbox/push/webpush_migrations)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def manage(tmp_path, *args):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db",
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


def test_migrate_applies_webpush_and_asks_for_no_new_migration(tmp_path):
    result = manage(tmp_path, "migrate", "--noinput")
    assert result.returncode == 0, result.stderr
    assert "Applying webpush.0005_auto_20230614_1529... OK" in result.stdout  # upstream's own still run
    assert "Applying webpush.0006_alter_subscriptioninfo_user_agent... OK" in result.stdout
    assert "not yet reflected in a migration" not in result.stdout + result.stderr
    assert "makemigrations" not in result.stdout + result.stderr


def test_every_app_including_webpush_has_its_migrations(tmp_path):
    result = manage(tmp_path, "makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
