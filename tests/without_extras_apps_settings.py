"""tests/without_extras_settings.py with inbox.push and inbox.realtime listed, where their
libraries cannot be imported (tests/without_extras_site.py apps-without-libraries)."""

from __future__ import annotations

from tests.without_extras_settings import *  # noqa: F403
from tests.without_extras_settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "inbox.push", "inbox.realtime"]
