"""Building the emails: a notification's and a digest's, each plain text and HTML from templates,
with absolute links (INBOX_SITE_URL) and the RFC 8058 one-click unsubscribe headers.

Rendered once, sent to many. The content of a notification's email is the same for every
recipient; only their links differ (the signed "mark as read" and unsubscribe URLs). So the
templates are rendered once per message with placeholders (`Slots`) where those links go, and a
`Prototype` fills them in for each recipient: as they are in the text part and the headers,
HTML-escaped in the HTML part. A digest is rendered once per distinct content in a batch, and
each item once per batch. Each recipient gets an ordinary EmailMultiAlternatives, which the
site's email backend turns into MIME (SMTP, files) or an ESP's API call (django-anymail)."""

from __future__ import annotations

import email.policy
import secrets
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import HeaderRegistry

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from inbox.conf import inbox_setting
from inbox.preferences import kind_of

from .tokens import DIGEST, read_signer, unsubscribe_signer

__all__ = ["Digests", "Item", "absolute", "digest_email", "notification_email", "notification_emails"]

SUBJECT_MAX_LENGTH = 78  # RFC 5322's recommended line length
LINE_LIMIT = 998  # RFC 5322's hard limit, without the CRLF


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


class HeaderClasses(HeaderRegistry):
    """The email package's header registry, making each header's class once per name: the
    standard one makes a new class (type()) for every header it parses or sets, much of the time
    of Django's message() for our emails (docs/performance.md); the class depends on the name alone."""

    def __init__(self):
        super().__init__()
        self.made: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        if (made := self.made.get(key)) is None:
            made = self.made[key] = super().__getitem__(name)
        return made


HEADER_CLASSES = HeaderClasses()


class Email(EmailMultiAlternatives):
    """Headers folded at RFC 5322's 998-character line limit, not at 78: Python's email package
    would otherwise turn a long List-Unsubscribe URL (one unbreakable word) into an RFC 2047
    encoded word, which mailbox providers do not read as a URL. Whoever makes the MIME message
    (Django's SMTP backend, a subclass, the file backend) gets it this way; an ESP backend
    (django-anymail) reads the parts and headers instead.

    `prototype` and `values`: what made it (`Prototype.email`), for a backend that can use them
    (inbox.mail.backends.PipeliningSMTPBackend); None for an email made otherwise."""

    prototype: Prototype | None = None
    values: dict[str, str] | None = None

    def message(self, *, policy=email.policy.default):
        return super().message(policy=policy.clone(max_line_length=LINE_LIMIT, header_factory=HEADER_CLASSES))


def absolute(path_or_url: str) -> str:
    """A site path made absolute with INBOX_SITE_URL; an http(s) URL is kept as it is."""
    if path_or_url.startswith(("http://", "https://")):
        return path_or_url
    return inbox_setting("SITE_URL").rstrip("/") + path_or_url


def one_line(text: str, limit: int = SUBJECT_MAX_LENGTH) -> str:
    """A subject: one line (a header with a newline is refused), cut with an ellipsis."""
    return Truncator(" ".join(text.split())).chars(limit)


class Link:
    """An absolute URL of a view that takes one signed token, reversed once: the tokens
    (URL-safe base64 and ':') are put in as reverse() would put them."""

    def __init__(self, name: str):
        mark = "t" + secrets.token_hex(8)
        self.prefix, self.suffix = absolute(reverse(name, args=[mark])).split(mark)

    def __call__(self, token: str) -> str:
        return f"{self.prefix}{token}{self.suffix}"


class Slots:
    """Placeholders for per-recipient values: letters and digits with a random part, so they
    pass through templates (and their escaping) unchanged and no message text can forge one."""

    def __init__(self, *names: str):
        nonce = secrets.token_hex(8)
        self.names = names
        self.text = {name: f"z{nonce}t{i}z" for i, name in enumerate(names)}  # text part, headers
        self.html = {name: f"z{nonce}h{i}z" for i, name in enumerate(names)}  # HTML part (escaped)

    def __getitem__(self, name: str) -> str:
        return self.text[name]

    def to_html(self, html: str) -> str:
        """Rendered HTML, its placeholders switched to the HTML ones (filled in escaped)."""
        for name in self.names:
            html = html.replace(self.text[name], self.html[name])
        return html


def fill(template: str, marks: dict[str, str], values: dict[str, str]) -> str:
    for name, mark in marks.items():
        template = template.replace(mark, values[name])
    return template


class Prototype:
    """One email for many recipients: subject, text, HTML and headers rendered once with `slots`
    placeholders; `email(address, values)` fills in one recipient's."""

    def __init__(self, subject: str, text: str, html: str, headers: dict[str, str], slots: Slots):
        self.subject, self.text, self.slots = subject, text, slots
        self.html = slots.to_html(html)
        # Auto-Submitted (RFC 3834): vacation responders do not answer it.
        self.headers = {"Auto-Submitted": "auto-generated", **headers}
        self.from_email = settings.DEFAULT_FROM_EMAIL

    def email(self, address: str, values: dict[str, str]) -> Email:
        text, html, headers = self.filled(values)
        mail = Email(self.subject, text, self.from_email, [address], headers=headers)
        mail.attach_alternative(html, "text/html")
        mail.prototype, mail.values = self, values
        return mail

    def filled(self, values: dict[str, str]) -> tuple[str, str, dict[str, str]]:
        """The text, the HTML and the headers with one recipient's `values`."""
        escaped = {name: escape(value) for name, value in values.items()}
        return (
            fill(self.text, self.slots.text, values),
            fill(self.html, self.slots.html, escaped),
            {name: fill(value, self.slots.text, values) for name, value in self.headers.items()},
        )

    def made(self, mail: EmailMultiAlternatives) -> bool:
        """Whether `mail` is still exactly what email() made of its values: nothing (a backend
        subclass adding a header, say) changed it since."""
        if type(mail) is not Email or mail.prototype is not self or mail.values is None:
            return False
        text, html, headers = self.filled(mail.values)
        return (
            (mail.subject, mail.body, mail.from_email, mail.extra_headers)
            == (self.subject, text, self.from_email, headers)
            and len(mail.to) == 1
            and not (mail.cc or mail.bcc or mail.reply_to or mail.attachments)
            and [tuple(a) for a in mail.alternatives] == [(html, "text/html")]
        )


def unsubscribe_headers(url: str) -> dict[str, str]:
    return {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",  # RFC 8058: a POST, no confirmation
    }


def notification_emails(item: Item, recipients) -> list[tuple[int, Email]]:
    """One message's email to each (user_id, address, notification_id) of `recipients`: the
    templates rendered once, each recipient's signed links filled in. `item.notification_id` is
    not used (each recipient has their own)."""
    kind = kind_of(item.kind)
    slots = Slots("read", "unsubscribe") if not kind.must_deliver else Slots("read")
    read_link, reader = Link("inbox:mail_read"), read_signer()
    context = {
        "item": item,
        "kind": kind,
        "read_url": slots["read"],
        "preferences_url": absolute(reverse("inbox:preferences")),
        "unsubscribe_url": "" if kind.must_deliver else slots["unsubscribe"],
    }
    headers = {} if kind.must_deliver else unsubscribe_headers(slots["unsubscribe"])
    prototype = Prototype(
        f"{kind.label}: {one_line(item.text, 60)}",
        render_to_string("inbox/mail/notification.txt", context),
        render_to_string("inbox/mail/notification.html", context),
        headers,
        slots,
    )
    if not kind.must_deliver:
        unsubscribe_link, unsubscriber = Link("inbox:mail_unsubscribe"), unsubscribe_signer()
    emails = []
    for user_id, address, notification_id in recipients:
        values = {"read": read_link(reader.sign_object([user_id, notification_id]))}
        if not kind.must_deliver:
            values["unsubscribe"] = unsubscribe_link(unsubscriber.sign_object([user_id, "email", kind.key]))
        emails.append((user_id, prototype.email(address, values)))
    return emails


def notification_email(user_id: int, address: str, item: Item) -> Email:
    """One notification's email to one user (`notification_emails` for many)."""
    return notification_emails(item, [(user_id, address, item.notification_id)])[0][1]


class Digests:
    """The digests of one batch: each item rendered once (inbox/mail/digest_item.*), each distinct
    digest content once (inbox/mail/digest.*), each user's unsubscribe link filled in."""

    def __init__(self):
        self.inbox_url = absolute(reverse("inbox:index"))
        self.preferences_url = absolute(reverse("inbox:preferences"))
        self.unsubscribe_link, self.signer = Link("inbox:mail_unsubscribe"), unsubscribe_signer()
        self.items: dict[tuple[str, str], tuple[str, str]] = {}
        self.prototypes: dict[tuple, Prototype] = {}

    def item(self, item: Item) -> tuple[str, str]:
        """An item's text and HTML lines, rendered once per batch."""
        key = (item.text, item.url)
        if (found := self.items.get(key)) is None:
            context = {"text": item.text, "link": absolute(item.url) if item.url else self.inbox_url}
            found = self.items[key] = (
                render_to_string("inbox/mail/digest_item.txt", context),
                render_to_string("inbox/mail/digest_item.html", context),
            )
        return found

    def email(self, user_id: int, address: str, items: list[Item], total: int) -> Email:
        """`items`: the newest first (at most INBOX_DIGEST_MAX_ITEMS); `total`: how many in all."""
        groups: dict[str, list[tuple[str, str]]] = {}
        for item in items:  # newest first, so the groups come in the order of their newest item
            groups.setdefault(item.kind, []).append(self.item(item))
        key = (tuple((kind, tuple(lines)) for kind, lines in groups.items()), total)
        if (prototype := self.prototypes.get(key)) is None:
            prototype = self.prototypes[key] = self.prototype(groups, total, len(items))
        token = self.signer.sign_object([user_id, DIGEST, ""])
        return prototype.email(address, {"unsubscribe": self.unsubscribe_link(token)})

    def prototype(self, groups: dict[str, list[tuple[str, str]]], total: int, shown: int) -> Prototype:
        slots = Slots("unsubscribe")
        context = {
            "total": total,
            "more": total - shown,
            "inbox_url": self.inbox_url,
            "preferences_url": self.preferences_url,
            "unsubscribe_url": slots["unsubscribe"],
        }
        texts, htmls = [], []
        for kind, lines in groups.items():
            texts.append((kind_of(kind), "".join(text for text, _ in lines)))
            # Each piece is a template's output (escaped there): joined, it stays safe HTML.
            htmls.append((kind_of(kind), mark_safe("".join(html for _, html in lines))))
        return Prototype(
            f"Your digest: {total} unread notification{'' if total == 1 else 's'}",
            render_to_string("inbox/mail/digest.txt", {**context, "groups": texts}),
            render_to_string("inbox/mail/digest.html", {**context, "groups": htmls}),
            unsubscribe_headers(slots["unsubscribe"]),
            slots,
        )


def digest_email(user_id: int, address: str, items: list[Item], total: int) -> Email:
    """One user's digest (`Digests` for a batch)."""
    return Digests().email(user_id, address, items, total)
