"""Settings for the push benchmark (bench.push): the bench site's settings on its own SQLite file
(results/push/push.sqlite3, made and migrated by bench.push), with fresh VAPID keys, loopback push
endpoints allowed (the local push service listens on http://127.0.0.1) and an in-memory task queue
(notify() queues deliver_push on commit; the benchmark calls the task's body itself)."""

from __future__ import annotations

import os
from pathlib import Path

PUSH_DIR = Path(__file__).resolve().parent / "results" / "push"
os.environ["BENCH_DB"] = str(PUSH_DIR / "push.sqlite3")

from inbox.push.keys import new_key_pair  # noqa: E402

from .settings import *  # noqa: E402, F403

WEBPUSH_SETTINGS = {**new_key_pair(), "VAPID_ADMIN_EMAIL": "bench@example.com"}
INBOX_PUSH_ALLOW_LOOPBACK = True
# deliver_push(message_id) sends to the whole audience itself (it would split more into tasks).
INBOX_PUSH_BATCH_SIZE = 10_000
TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
