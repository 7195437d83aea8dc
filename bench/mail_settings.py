"""Settings for the email benchmark (bench.mail): the bench site's settings on its own SQLite file
(results/mail/mail.sqlite3, made and migrated by bench.mail); the SMTP mailer's port is set by
bench.mail once its local server runs. Tasks run at once (ImmediateBackend), so a delivery's
batches run inside the timed call; push is off (no VAPID keys), so only email is measured."""

from __future__ import annotations

import os
from pathlib import Path

MAIL_DIR = Path(__file__).resolve().parent / "results" / "mail"
os.environ["BENCH_DB"] = str(MAIL_DIR / "mail.sqlite3")

from .settings import *  # noqa: E402, F403

WEBPUSH_SETTINGS = {"VAPID_PUBLIC_KEY": "", "VAPID_PRIVATE_KEY": "", "VAPID_ADMIN_EMAIL": "bench@example.com"}
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
MAILERS = {
    "default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": {"host": "127.0.0.1"}}
}
DEFAULT_FROM_EMAIL = "Inbox <inbox@example.com>"
INBOX_SITE_URL = "https://inbox.example.com"
INBOX_DIGEST_SETTLE_SECONDS = 0
