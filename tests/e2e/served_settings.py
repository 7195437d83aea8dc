"""Settings of the site served by scripts/serve.sh in tests/e2e/test_make_run.py: the ASGI test
server's, with the database task queue that serve.sh's task worker (inbox_worker) works."""

from __future__ import annotations

from tests.e2e.asgi_settings import *  # noqa: F403

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
