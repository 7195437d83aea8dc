"""A real SMTP server on loopback (aiosmtpd, in a thread) that records what it receives: each
email parsed, its envelope, and how many connections were opened. It can refuse recipients with
a 4xx (a number of times, then accept) or a 5xx, as a real server does at RCPT TO."""

from __future__ import annotations

import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

REPLIES = {
    450: "450 4.2.1 Mailbox busy, try again later",
    451: "451 4.3.0 Temporary failure",
    550: "550 5.1.1 No such user here",
    552: "552 5.2.2 Mailbox full",
}


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes  # as it came over the wire

    @property
    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(("html",)).get_content()


@dataclass
class Handler:
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    refusals: dict[str, list[int]] = field(default_factory=dict)  # address -> codes still to answer
    lock: threading.Lock = field(default_factory=threading.Lock)

    def refuse(self, address: str, code: int, times: int = 1_000_000) -> None:
        """Answer RCPT TO:<address> with `code` the next `times` times, then accept it."""
        with self.lock:
            self.refusals[address] = [code] * times

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.rcpt_tos]

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.lock:
            self.connections += 1  # every client connection starts with one EHLO
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            codes = self.refusals.get(address)
            if codes:
                return REPLIES[codes.pop()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        message = message_from_bytes(raw, policy=policy.default)
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message, raw))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(settings, handler):
    """The site's default mailer pointed at a fresh aiosmtpd server on 127.0.0.1 with `handler`."""
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": controller.port, "timeout": 5},
        }
    }
    settings.DEFAULT_FROM_EMAIL = "Inbox <inbox@example.com>"
    settings.INBOX_SITE_URL = "https://inbox.example.com"
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def smtp(settings):
    """The site's default mailer pointed at a fresh aiosmtpd server on 127.0.0.1."""
    with serving(settings, Handler()) as handler:
        yield handler


@pytest.fixture
def smtp_down(settings):
    """The default mailer pointed at a loopback port where nothing listens."""
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 5},
        }
    }


@pytest.fixture
def address():
    """address(user, "a@example.com"): give a user an email address (the fixtures' users have none)."""

    def give(user, value: str):
        user.email = value
        user.save(update_fields=["email"])
        return user

    return give
