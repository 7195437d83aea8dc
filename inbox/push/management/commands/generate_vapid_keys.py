"""python manage.py generate_vapid_keys [--if-missing] [--force]

The demo site keeps the pair in var/vapid.json (settings.VAR_DIR); a project without VAR_DIR
gets it printed as two environment lines for its WEBPUSH_SETTINGS to read."""

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
        if os.environ.get("VAPID_PRIVATE_KEY"):
            self.stdout.write("VAPID keys come from the environment; nothing written.")
            return
        var_dir = getattr(settings, "VAR_DIR", None)
        if var_dir is None:
            keys = new_key_pair()
            self.stdout.write("\n".join(f"{name}={value}" for name, value in keys.items()))
            return
        path = var_dir / "vapid.json"
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
