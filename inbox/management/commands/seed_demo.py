"""python manage.py seed_demo: demo users, a "team" group and an inbox that shows what the
product does (every level and kind, links, read and unread, one about to expire, a group broadcast,
spread over two weeks); prints the logins. Seeds once: the notifications are written only
while no demo user has any, so `make run` can call it every time. --reset starts them over."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from inbox import kinds
from inbox.api import notify
from inbox.models import Level, Message, Notification

PASSWORD = "inbox-demo"  # the login page shows it while a demo user still has it
TEAM = "team"
USERS = [
    # username, role (as the login page and this command describe it), staff, in the team
    ("alice", "user", False, True),
    ("admin", "staff: can send notifications", True, True),
    ("bob", "user", False, True),
    ("carol", "user, not in the team", False, False),
]
EVERYONE = "everyone"  # every demo user


def demo_address(username: str) -> str:
    """A demo user's email address: example.com is reserved (RFC 2606), so no real mailbox gets
    it; `make run` writes the emails to files in var/mail/."""
    return f"{username}@example.com"


def admin_url() -> str:
    """The admin's index, or no link on a site without the admin."""
    try:
        return reverse("admin:index")
    except NoReverseMatch:
        return ""


@dataclass(frozen=True)
class Entry:
    """One demo message: how long ago it came, to whom (usernames, TEAM or EVERYONE), whether
    they have read it, and what notify() gets."""

    age: timedelta
    to: str | tuple[str, ...]
    text: str
    level: str = Level.INFO
    url: str = ""
    read: bool = False
    actor: str | None = None
    expires_in: timedelta | None = None
    kind: str = kinds.GENERAL  # the demo site's kinds (config/kinds.py); "general" where not registered


def story() -> list[Entry]:
    """The demo inbox, oldest first. Links are the site's pages or example.com."""
    return [
        Entry(
            timedelta(days=13),
            EVERYONE,
            "Welcome to Inbox! Your notifications appear here and under the bell.",
            level=Level.SUCCESS,
            read=True,
            actor="admin",
            kind="announcement",
        ),
        Entry(
            timedelta(days=9),
            TEAM,
            "The team wiki has moved. Bookmarks to the old address stop working on Friday.",
            url="https://example.com/wiki",
            read=True,
            actor="admin",
            kind="announcement",
        ),
        Entry(
            timedelta(days=6),
            ("alice",),
            "Payment failed: the card ending in 4242 was declined. Update it to keep your Pro plan.",
            level=Level.ERROR,
            url="https://example.com/billing",
            read=True,
        ),
        Entry(
            timedelta(days=5),
            ("alice",),
            "Payment received: invoice INV-2031 (€49.00) is paid. Thank you!",
            level=Level.SUCCESS,
            read=True,
        ),
        Entry(
            timedelta(days=3),
            ("alice",),
            "Your export “March reports” is ready to download.",
            url="https://example.com/exports/march.csv",
            read=True,
        ),
        Entry(
            timedelta(days=2),
            ("admin",),
            "5 failed sign-ins for “bob” from 203.0.113.7: the account is locked for an hour.",
            level=Level.ERROR,
            url=admin_url(),
            kind="security",
        ),
        Entry(
            timedelta(hours=31),
            ("alice",),
            "Build #1431 on feature/search failed: 3 tests failed in tests/test_search.py.",
            level=Level.ERROR,
            url="https://example.com/ci/builds/1431",
            read=True,
            kind="build.finished",
        ),
        Entry(
            timedelta(hours=27),
            ("alice",),
            "Bob mentioned you in “Q3 roadmap”: “@alice can you check these numbers?”",
            url="https://example.com/docs/q3-roadmap#comment-12",
            kind="mention",
        ),
        Entry(
            timedelta(hours=26),
            ("alice",),
            "Build #1432 on main passed in 4 min 12 s.",
            level=Level.SUCCESS,
            url="https://example.com/ci/builds/1432",
            read=True,
            kind="build.finished",
        ),
        Entry(
            timedelta(hours=5),
            ("alice",),
            "New sign-in to your account from Firefox on Linux. Not you? Review your devices and change "
            "your password.",
            level=Level.WARNING,
            url=reverse("inbox:preferences"),
            kind="security",
        ),
        Entry(
            timedelta(hours=3),
            TEAM,
            "Deploying v2.4.0 to production: the API may answer slowly for about 10 minutes.",
            level=Level.WARNING,
            actor="admin",
            kind="announcement",
        ),
        Entry(
            timedelta(minutes=80),
            ("alice", "bob"),
            "Carol shared “Onboarding checklist” with you.",
            url="https://example.com/docs/onboarding",
            kind="mention",
        ),
        Entry(
            timedelta(minutes=20),
            EVERYONE,
            "Maintenance: deploys are frozen for the next 2 hours while the database is upgraded. "
            "This notice goes away when it is over.",
            level=Level.WARNING,
            actor="admin",
            expires_in=timedelta(hours=2),
            kind="announcement",
        ),
        Entry(
            timedelta(minutes=4),
            ("alice",),
            "Build #1433 on main passed: v2.4.0 is ready to ship.",
            level=Level.SUCCESS,
            url="https://example.com/ci/builds/1433",
            kind="build.finished",
        ),
    ]


class Command(BaseCommand):
    help = "Create demo users and their notifications (once) and print how to log in."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset", action="store_true", help="Delete the demo users' notifications and seed them again."
        )

    @transaction.atomic
    def handle(self, *args, reset=False, **options):
        team, _ = Group.objects.get_or_create(name=TEAM)
        users = {}
        for username, _role, staff, in_team in USERS:
            user, created = get_user_model().objects.get_or_create(
                username=username, defaults={"is_staff": staff, "is_superuser": staff}
            )
            if created:
                user.set_password(PASSWORD)
                user.save(update_fields=["password"])
            if not user.email:  # an address (a reserved domain) so that email can be tried: var/mail/
                user.email = demo_address(username)
                user.save(update_fields=["email"])
            if in_team:
                user.groups.add(team)
            users[username] = user

        held = Notification.objects.filter(recipient__in=users.values())
        if reset:
            held.delete()
            # And the messages nobody holds any more (as purge_notifications does).
            Message.objects.filter(deliveries__isnull=True).delete()
        if not held.exists():
            try:
                self.seed(users, team)
            except ValidationError as error:  # e.g. the demo users were deactivated: nothing written
                raise CommandError(f"Cannot seed the demo: {' '.join(error.messages)}") from error

        self.stdout.write(f"Demo logins (password for each: {PASSWORD}):")
        for username, role, _staff, _in_team in USERS:
            self.stdout.write(f"  {username:<6} {role}")

    def seed(self, users: dict, team: Group) -> None:
        """Send the story through notify(), then move each message back to its age: the
        message and its rows get the same `created` (the dashboard pages on it), and the
        read ones a read time a few minutes later."""
        now = timezone.now()
        everyone = get_user_model().objects.filter(pk__in=[user.pk for user in users.values()])
        for entry in story():
            if entry.to == TEAM:
                recipients = team
            elif entry.to == EVERYONE:
                recipients = everyone
            else:
                recipients = [users[name] for name in entry.to]
            sent = notify(
                recipients,
                entry.text,
                url=entry.url,
                level=entry.level,
                expires_at=now + entry.expires_in if entry.expires_in else None,
                actor=users[entry.actor] if entry.actor else None,
                kind=entry.kind if entry.kind in {kind.key for kind in kinds.all()} else kinds.GENERAL,
            )
            created = now - entry.age
            Message.objects.filter(pk=sent.message.pk).update(created=created)
            rows = Notification.objects.filter(message=sent.message)
            rows.update(created=created)
            if entry.read:
                rows.update(read_at=min(created + timedelta(minutes=7), now))
