"""Test settings: the site's settings with plain static storage (no collectstatic needed),
a fast password hasher, fresh VAPID keys and an in-memory task backend whose queue tests read."""

from __future__ import annotations

from config.settings import *  # noqa: F403
from config.settings import STORAGES
from inbox.vapid import new_key_pair

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

WEBPUSH_SETTINGS = {**new_key_pair(), "VAPID_ADMIN_EMAIL": "push-tests@example.com"}
TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
# A clean checkout has no collected static files: serve them from the app folders instead.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
