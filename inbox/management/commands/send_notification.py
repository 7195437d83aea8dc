"""python manage.py send_notification "MESSAGE" --user alice --group staff --kind mention --expires-in 2h

The command runs with the server's own rights, like inbox.api.notify(): it may send any kind,
"must deliver" ones too (the staff form lets only staff send those)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from inbox import kinds
from inbox.api import notify
from inbox.conf import inbox_setting
from inbox.recipients import select_recipients

DURATION = re.compile(r"(\d+)\s*([smhdw])", re.ASCII)
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """'90s', '15m', '2h', '1d', '1w' or a sum such as '1h30m', at most INBOX_MAX_EXPIRY_DAYS."""
    compact = text.replace(" ", "").lower()
    parts = DURATION.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise CommandError(f"--expires-in {text!r} is not a duration such as 30m, 2h, 1d or 1h30m.")
    max_days = inbox_setting("MAX_EXPIRY_DAYS")
    too_long = CommandError(f"--expires-in is too long: at most {max_days} days.")
    if len(compact) > 40:  # huge digit strings: int() refuses past 4,300 digits anyway
        raise too_long
    try:
        delta = sum((timedelta(**{UNITS[unit]: int(n)}) for n, unit in parts), timedelta())
    except OverflowError:  # more than timedelta can hold (999,999,999 days)
        raise too_long from None
    if not delta:
        raise CommandError("--expires-in must be longer than zero.")
    if delta > timedelta(days=max_days):
        raise too_long
    return delta


def parse_datetime(text: str) -> datetime:
    """ISO 8601; without an offset it is read in the site's time zone (TIME_ZONE)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--expires {text!r} is not a date and time such as 2026-12-31T12:00.") from None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


class Command(BaseCommand):
    help = "Send a notification to users, groups or every active user."

    def add_arguments(self, parser):
        parser.add_argument("message", help="The notification's text.")
        parser.add_argument(
            "--user", action="append", default=[], metavar="USERNAME", help="A recipient; repeat for more."
        )
        parser.add_argument(
            "--group",
            action="append",
            default=[],
            metavar="NAME",
            help="Every active member of this group; repeat for more.",
        )
        parser.add_argument(
            "--all-users", action="store_true", help="Every active user (not with --user or --group)."
        )
        parser.add_argument("--url", default="", help="A link: an http(s) URL or a site path.")
        parser.add_argument("--level", default="info", help="info, success, warning or error.")
        parser.add_argument(
            "--kind",
            default=kinds.GENERAL,
            help=f"A kind of notification the site registered (default {kinds.GENERAL}).",
        )
        parser.add_argument("--expires", metavar="DATETIME", help="When it expires, e.g. 2026-12-31T12:00.")
        parser.add_argument("--expires-in", metavar="DURATION", help="Expire after, e.g. 30m, 2h, 1d.")

    def handle(
        self, *args, message, user, group, all_users, url, level, kind, expires, expires_in, **options
    ):
        if all_users and (user or group):
            # Which would win is a guess either way (and an unknown name was silently ignored).
            raise CommandError("Give --all-users or --user/--group, not both.")
        if expires and expires_in:
            raise CommandError("Give --expires or --expires-in, not both.")
        expires_at = None
        if expires:
            expires_at = parse_datetime(expires)
        elif expires_in:
            expires_at = timezone.now() + parse_duration(expires_in)
        try:
            recipients = select_recipients(usernames=user, group_names=group, all_users=all_users)
            sent = notify(recipients, message, url=url, level=level, kind=kind, expires_at=expires_at)
        except ValidationError as error:
            said = error.messages
            if getattr(error, "code", None) == "unknown_kind":
                said.append(f"Known kinds: {', '.join(k.key for k in kinds.all())}.")
            raise CommandError(" ".join(said)) from None
        self.stdout.write(sent.summary)
