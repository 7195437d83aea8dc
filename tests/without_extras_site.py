"""A site with the core and the web UI only, run where the optional libraries cannot be imported
(as if installed without extras): `python tests/without_extras_site.py`, with DATABASE_URL naming an
empty database. It checks the migrations, migrates, and uses the bell and the dashboard; it prints
what it saw as JSON (tests/test_without_extras.py reads it)."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

# The libraries of the extras ([push], [realtime], [redis]): none can be imported here.
BLOCKED = ("webpush", "pywebpush", "http_ece", "py_vapid", "aiohttp", "channels", "channels_redis", "daphne")


class Blocked:
    """A finder that says each blocked library is not installed (an import of one fails)."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".", 1)[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def setup(settings: str) -> None:
    import django

    sys.meta_path.insert(0, Blocked())
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    os.environ["DJANGO_SETTINGS_MODULE"] = settings
    django.setup()


def apps_without_their_libraries() -> dict:
    """inbox.push and inbox.realtime listed, their libraries missing: what `check` and `migrate`
    say (each names the extra to install, inbox.E007), instead of a traceback."""
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    said = {}
    # call_command() skips migrate's checks unless asked; `manage.py migrate` runs them.
    for command, options in (("check", {}), ("migrate", {"skip_checks": False})):
        try:
            call_command(command, verbosity=0, stdout=io.StringIO(), **options)
            said[command] = ""
        except SystemCheckError as error:
            said[command] = str(error)
    return said


def main() -> dict:
    setup("tests.without_extras_settings")

    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client

    from inbox.api import notify
    from inbox.models import Notification

    call_command("makemigrations", check=True, dry_run=True, verbosity=0)  # exits 1 on a change
    call_command("migrate", verbosity=0)
    call_command("check", fail_level="ERROR", stdout=io.StringIO())
    ada = User.objects.create_user("ada", password="pw", is_staff=True)
    notify(ada, "Hello from the core")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(ada)
    pk = Notification.objects.get(recipient=ada).pk
    pages = {
        name: client.get(f"/inbox/{path}")
        for name, path in [("dashboard", ""), ("badge", "badge/"), ("dropdown", "dropdown/")]
    }
    read = client.post(f"/inbox/{pk}/read/", headers={"hx-request": "true"})
    status = {name: response.status_code for name, response in pages.items()}
    return {
        "status": status | {"read": read.status_code},
        "dashboard": pages["dashboard"].content.decode(),
        "unread_after_read": Notification.objects.filter(recipient=ada).unread().count(),
    }


if __name__ == "__main__" and sys.argv[1:] == ["apps-without-libraries"]:
    setup("tests.without_extras_apps_settings")
    print(json.dumps(apps_without_their_libraries()))
elif __name__ == "__main__":
    print(json.dumps(main()))
