"""A site with the core and the web UI only: the demo's settings without inbox.push,
inbox.realtime, inbox.mail, inbox.pwa and their libraries (no webpush). tests/test_without_extras.py
migrates and serves with these where the optional libraries cannot be imported."""

from __future__ import annotations

import copy
from pathlib import Path

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS, MIDDLEWARE, STORAGES, TEMPLATES

LEFT_OUT = ("inbox.realtime", "inbox.push", "inbox.mail", "inbox.pwa", "webpush", "daphne", "channels")
INSTALLED_APPS = [app for app in INSTALLED_APPS if app not in LEFT_OUT]
MIDDLEWARE = [name for name in MIDDLEWARE if not name.startswith("inbox.pwa.")]
MIGRATION_MODULES = {}
ROOT_URLCONF = "tests.web.urls_core_only"
# A host's own base.html (tests/e2e/host/), not the demo's, which links the demo's pages.
TEMPLATES = copy.deepcopy(TEMPLATES)
TEMPLATES[0]["DIRS"] = [Path(__file__).resolve().parent / "e2e" / "host" / "templates"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
