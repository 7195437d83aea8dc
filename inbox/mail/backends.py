"""An opt-in email backend for sites that send Inbox's emails to their own SMTP relay and want them
fast. A site names it in its settings:

    MAILERS = {"default": {"BACKEND": "inbox.mail.backends.PipeliningSMTPBackend", "OPTIONS": {...}}}

It is Django's SMTP backend (the same options, connection, TLS and authentication) with two
differences: MAIL FROM, RCPT TO and DATA go in one write when the server offers PIPELINING
(inbox.mail.pipelining), and an email Inbox composed (compose.Email, unchanged since) is not built
by Django's email package one recipient at a time: its prototype's MIME message is built by Django
once and each recipient's bytes are that message with their address, Message-ID and links filled
in (`Prepared`). Any other email, or one changed after it was composed, is built by Django's
message() as usual. Not for a site whose backend must see or change every message (a DKIM-signing
or auditing subclass of Django's backend): such a site keeps its own backend, which Inbox uses as
it is."""

from __future__ import annotations

import email.policy
import re
import secrets
import smtplib
import threading
import weakref
from email.utils import make_msgid

from django.core.mail.backends.smtp import EmailBackend
from django.core.mail.utils import DNS_NAME
from django.utils.html import escape

from .compose import LINE_LIMIT, Email, Prototype
from .pipelining import sendmail

__all__ = ["PipeliningSMTPBackend"]

# An address that comes out of Django's To header exactly as it goes in (a dot-atom at an ASCII
# domain): only then are prepared bytes used; any other address takes Django's whole path.
PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)


class PipeliningSMTPBackend(EmailBackend):
    """Django's SMTP backend, pipelined, with Inbox's emails built once per prototype."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sending = threading.RLock()  # one email at a time on the connection, as Django's

    def send_messages(self, email_messages):
        """As Django's: open a connection unless one is open (and close it after), send each,
        return how many went; a refusal raises unless fail_silently."""
        if not email_messages:
            return 0
        with self.sending:
            opened = self.open()
            if not self.connection or opened is None:  # failed silently
                return 0
            try:
                return sum(self.send_one(message) for message in email_messages)
            finally:
                if opened:
                    self.close()

    def send_one(self, message) -> bool:
        if not message.recipients():
            return False
        sender = self.envelope_address(message.from_email)
        recipients = [self.envelope_address(address) for address in message.recipients()]
        raw = prepared_bytes(message) or message.message(policy=email.policy.SMTP).as_bytes()
        try:
            sendmail(self.connection, sender, recipients, raw)
        except smtplib.SMTPException:
            if not self.fail_silently:
                raise
            return False
        return True

    def envelope_address(self, address: str) -> str:
        """prep_address(address); a plain address (what its parser gives back unchanged) without
        the parser, the larger part of this backend's CPU per email (docs/performance.md)."""
        return address if PLAIN_ADDRESS.fullmatch(address) else self.prep_address(address)


def prepared_bytes(message) -> bytes | None:
    """The bytes of an email Inbox composed, filled in from its prototype's; None when Django
    must build them (see Prepared.fill)."""
    prototype = getattr(message, "prototype", None)
    if prototype is None or not prototype.made(message):
        return None
    return Prepared.of(prototype).fill(message.to[0], message.values)


class Prepared:
    """A prototype's MIME message as Django's SMTP backend would send it, built once and cut at
    the placeholders: literal bytes at even indexes, placeholders at odd ones."""

    made: weakref.WeakKeyDictionary[Prototype, Prepared] = weakref.WeakKeyDictionary()
    lock = threading.Lock()

    def __init__(self, prototype: Prototype):
        self.prototype = prototype
        nonce = secrets.token_hex(8)  # letters and digits: they come through Django's headers as they are
        self.to = f"z{nonce}to@example.invalid"
        self.message_id = f"z{nonce}id"
        self.parts = self.cut()

    @classmethod
    def of(cls, prototype: Prototype) -> Prepared:
        with cls.lock:
            if (found := cls.made.get(prototype)) is None:
                found = cls.made[prototype] = cls(prototype)
            return found

    def cut(self) -> list[bytes] | None:
        """None when the placeholders did not come through as they went in (a body Django had to
        encode as quoted-printable or base64, a folded or encoded header): then every recipient's
        email is built by Django's message() instead."""
        prototype, slots = self.prototype, self.prototype.slots
        mail = Email(
            prototype.subject,
            prototype.text,
            prototype.from_email,
            [self.to],
            headers={**prototype.headers, "Message-ID": f"<{self.message_id}@{DNS_NAME}>"},
        )
        mail.attach_alternative(prototype.html, "text/html")
        message = mail.message(policy=email.policy.SMTP)
        encodings = {part.get("Content-Transfer-Encoding", "7bit") for part in message.walk()}
        if not encodings <= {"7bit", "8bit"}:
            return None
        raw = message.as_bytes()
        expected = {self.to: 1, self.message_id: 1}
        for name in slots.names:
            expected[slots.text[name]] = prototype.text.count(slots.text[name]) + sum(
                value.count(slots.text[name]) for value in prototype.headers.values()
            )
            expected[slots.html[name]] = prototype.html.count(slots.html[name])
        marks = [mark for mark, count in expected.items() if count]
        parts = re.split(b"(" + b"|".join(re.escape(m.encode()) for m in marks) + b")", raw)
        found = {mark: parts[1::2].count(mark.encode()) for mark in marks}
        if found != {mark: expected[mark] for mark in marks}:
            return None
        return parts

    def fill(self, address: str, values: dict[str, str]) -> bytes | None:
        """This recipient's bytes, or None when Django must build them (an address that is not a
        plain dot-atom, a value that is not ASCII, a line the values make too long)."""
        if self.parts is None or not PLAIN_ADDRESS.fullmatch(address):
            return None
        if not all(value.isascii() and "\r" not in value and "\n" not in value for value in values.values()):
            return None
        slots = self.prototype.slots
        fills = {self.to: address, self.message_id: make_msgid(domain=DNS_NAME)[1:].rsplit("@", 1)[0]}
        for name in slots.names:
            fills[slots.text[name]] = values[name]
            fills[slots.html[name]] = escape(values[name])
        encoded = {mark.encode(): value.encode() for mark, value in fills.items()}
        parts = self.parts
        raw = b"".join([parts[i] if i % 2 == 0 else encoded[parts[i]] for i in range(len(parts))])
        if max(map(len, raw.split(b"\r\n"))) > LINE_LIMIT:
            return None
        return raw
