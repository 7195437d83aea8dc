"""Test settings: the site's settings with plain static storage (no collectstatic needed),
a fast password hasher, fresh VAPID keys and an in-memory task backend whose queue tests read."""

from __future__ import annotations

import os

from config.settings import *  # noqa: F403
from config.settings import DATABASES, STORAGES
from inbox.push.keys import new_key_pair

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

WEBPUSH_SETTINGS = {**new_key_pair(), "VAPID_ADMIN_EMAIL": "push-tests@example.com"}
TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
# A clean checkout has no collected static files: serve them from the app folders instead.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
# Several test runs at once (one per work tree) each need their own PostgreSQL test database.
if os.environ.get("TEST_DB_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DB_NAME"]}
