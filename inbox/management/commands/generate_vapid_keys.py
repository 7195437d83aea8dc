"""python manage.py generate_vapid_keys [--if-missing] [--force]"""

from __future__ import annotations

import json
import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from inbox.push.keys import new_key_pair


class Command(BaseCommand):
    help = "Create a VAPID key pair for Web Push in var/vapid.json (kept out of git)."

    def add_arguments(self, parser):
        parser.add_argument("--if-missing", action="store_true", help="Do nothing if keys exist.")
        parser.add_argument("--force", action="store_true", help="Replace existing keys.")

    def handle(self, *args, if_missing, force, **options):
        path = settings.VAR_DIR / "vapid.json"
        if os.environ.get("VAPID_PRIVATE_KEY"):
            self.stdout.write("VAPID keys come from the environment; nothing written.")
            return
        if path.exists() and not force:
            if if_missing:
                return
            raise CommandError(f"{path} exists; pass --force to replace it (subscribers must re-subscribe).")
        path.parent.mkdir(exist_ok=True)
        keys = new_key_pair()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            json.dump(keys, file)
        self.stdout.write(f"Wrote {path}. Public key: {keys['VAPID_PUBLIC_KEY']}")
