"""python manage.py seed_demo: demo users, a group and a few notifications; prints the logins."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from inbox.api import notify
from inbox.models import Notification

PASSWORD = "inbox-demo"
USERS = [
    # username, staff, in the "team" group
    ("admin", True, True),
    ("alice", False, True),
    ("bob", False, True),
    ("carol", False, False),
]


class Command(BaseCommand):
    help = "Create demo users and notifications (only once) and print how to log in."

    @transaction.atomic
    def handle(self, *args, **options):
        user_model = get_user_model()
        team, _ = Group.objects.get_or_create(name="team")
        users = {}
        for username, staff, in_team in USERS:
            user, created = user_model.objects.get_or_create(
                username=username, defaults={"is_staff": staff, "is_superuser": staff}
            )
            if created:
                user.set_password(PASSWORD)
                user.save()
            if in_team:
                user.groups.add(team)
            users[username] = user

        if not Notification.objects.exists():
            self.seed_notifications(users, team)

        self.stdout.write(f"Demo logins (password for each: {PASSWORD}):")
        for username, staff, _ in USERS:
            self.stdout.write(f"  {username:<6} {'staff: can send notifications' if staff else 'user'}")

    def seed_notifications(self, users, team):
        admin = users["admin"]
        everyone = get_user_model().objects.filter(is_active=True)
        notify(
            everyone,
            "Welcome to Inbox! Your notifications appear here and under the bell.",
            level="success",
            actor=admin,
        )
        notify(team, "Team meeting moved to 15:00 today.", url="/inbox/", actor=admin)
        notify(
            everyone,
            "Scheduled maintenance on Saturday 02:00-03:00 UTC.",
            level="warning",
            expires_at=timezone.now() + timedelta(days=7),
            actor=admin,
        )
        notify(users["alice"], "Your export is ready to download.", url="/inbox/", level="success")
        notify(users["alice"], "A sign-in from a new browser was blocked.", level="error")
        for n in range(1, 31):
            notify(users["alice"], f"Build #{n} finished.", level="info")
