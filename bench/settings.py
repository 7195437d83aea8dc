"""The site's settings for the benchmark: its own SQLite file, the trivial floor view in the URLs.

Everything else (middleware, sessions, the SQLite options: WAL, synchronous=NORMAL, IMMEDIATE
transactions, CONN_MAX_AGE) is exactly what config.settings gives the site. BENCH_DATABASE_URL
(run.sh's BENCH_ONLY=http-pg) puts the same site on that PostgreSQL database instead.
"""

from __future__ import annotations

import os
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
BENCH_DB = Path(os.environ.get("BENCH_DB", RESULTS_DIR / "bench.sqlite3"))

# config.settings builds DATABASES from DATABASE_URL: point it at the bench file, so the site's own
# code adds its SQLite options to it (the same ones a deployment on SQLite gets).
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{BENCH_DB}"

from config.settings import *  # noqa: E402, F403
from config.settings import DATABASES, STORAGES  # noqa: E402

if not os.environ.get("BENCH_DATABASE_URL"):
    assert DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3", DATABASES["default"]["ENGINE"]
    assert "journal_mode=WAL" in DATABASES["default"]["OPTIONS"]["init_command"]

ROOT_URLCONF = "bench.urls"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "testserver"]  # testserver: django.test.Client
# The full dashboard page uses {% static %}: plain storage, so no collectstatic/manifest is needed.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
# Seeding logs users in with Client.force_login; no password is hashed anywhere in the bench.
