"""Building the emails: a notification's and a digest's, each plain text and HTML from templates,
with absolute links (INBOX_SITE_URL) and the RFC 8058 one-click unsubscribe headers."""

from __future__ import annotations

import email.policy
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.text import Truncator

from inbox.conf import inbox_setting
from inbox.preferences import kind_of

from .tokens import DIGEST, read_token, unsubscribe_token

__all__ = ["Item", "absolute", "digest_email", "notification_email"]

SUBJECT_MAX_LENGTH = 78  # RFC 5322's recommended line length


@dataclass(frozen=True)
class Item:
    """One notification as an email shows it."""

    notification_id: int
    text: str
    url: str
    level: str
    kind: str
    created: datetime

    @property
    def link(self) -> str:
        """Where the notification leads, absolute: its link, or the inbox when it has none."""
        return absolute(self.url or reverse("inbox:index"))


class Email(EmailMultiAlternatives):
    """Headers folded at RFC 5322's 998-character line limit, not at 78: Python's email package
    would otherwise turn a long List-Unsubscribe URL (one unbreakable word) into an RFC 2047
    encoded word, which mailbox providers do not read as a URL."""

    def message(self, *, policy=email.policy.default):
        return super().message(policy=policy.clone(max_line_length=998))


def absolute(path_or_url: str) -> str:
    """A site path made absolute with INBOX_SITE_URL; an http(s) URL is kept as it is."""
    if path_or_url.startswith(("http://", "https://")):
        return path_or_url
    return inbox_setting("SITE_URL").rstrip("/") + path_or_url


def one_line(text: str, limit: int = SUBJECT_MAX_LENGTH) -> str:
    """A subject: one line (a header with a newline is refused), cut with an ellipsis."""
    return Truncator(" ".join(text.split())).chars(limit)


def unsubscribe_headers(user_id: int, kind: str, channel: str) -> dict[str, str]:
    url = absolute(reverse("inbox:mail_unsubscribe", args=[unsubscribe_token(user_id, kind, channel)]))
    return {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",  # RFC 8058: a POST, no confirmation
    }


def build(subject: str, to: str, template: str, context: dict, headers: dict) -> EmailMultiAlternatives:
    text = render_to_string(f"inbox/mail/{template}.txt", context)
    html = render_to_string(f"inbox/mail/{template}.html", context)
    mail = Email(
        subject,
        text,
        settings.DEFAULT_FROM_EMAIL,
        [to],
        # Auto-Submitted (RFC 3834): vacation responders do not answer it.
        headers={"Auto-Submitted": "auto-generated", **headers},
    )
    mail.attach_alternative(html, "text/html")
    return mail


def notification_email(user_id: int, address: str, item: Item) -> EmailMultiAlternatives:
    kind = kind_of(item.kind)
    headers = {} if kind.must_deliver else unsubscribe_headers(user_id, kind.key, "email")
    context = {
        "item": item,
        "kind": kind,
        "read_url": absolute(reverse("inbox:mail_read", args=[read_token(user_id, item.notification_id)])),
        "preferences_url": absolute(reverse("inbox:preferences")),
        "unsubscribe_url": headers.get("List-Unsubscribe", "").strip("<>"),
    }
    return build(f"{kind.label}: {one_line(item.text, 60)}", address, "notification", context, headers)


def digest_email(user_id: int, address: str, items: list[Item], total: int) -> EmailMultiAlternatives:
    """`items`: the newest first (at most INBOX_DIGEST_MAX_ITEMS); `total`: how many there are in all."""
    groups: dict[str, list[Item]] = {}
    for item in items:  # newest first, so the groups come in the order of their newest item
        groups.setdefault(item.kind, []).append(item)
    headers = unsubscribe_headers(user_id, "", DIGEST)
    context = {
        "groups": [(kind_of(key), group) for key, group in groups.items()],
        "total": total,
        "more": total - len(items),
        "inbox_url": absolute(reverse("inbox:index")),
        "preferences_url": absolute(reverse("inbox:preferences")),
        "unsubscribe_url": headers["List-Unsubscribe"].strip("<>"),
    }
    subject = f"Your digest: {total} unread notification{'' if total == 1 else 's'}"
    return build(subject, address, "digest", context, headers)
