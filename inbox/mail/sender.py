"""Sending a batch of emails through one SMTP connection, each answer sorted into sent, retry
(4xx or a connection failure: later), bounce (a 5xx refusing the recipient: stop mailing that
address) or failed (give up on this one email)."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

from django.core.mail import EmailMessage, mailers
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend

from . import pipelining

__all__ = ["Outcome", "send_batch"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    key: Hashable  # the caller's: a user id
    kind: str  # "sent", "retry", "bounce" or "failed"
    code: int | None = None  # the SMTP reply code, when there was one
    detail: str = ""


def send_batch(
    emails: Iterable[tuple[Hashable, EmailMessage]],
    *,
    wave: int = 0,
    after_wave: Callable[[list[Outcome]], None] | None = None,
) -> list[Outcome]:
    """Send every (key, email) through one connection of the default mailer. One refused email
    never stops the others; a lost connection makes this email and the rest "retry".
    `after_wave(outcomes)` is called after every `wave` emails and at the end (receipts)."""
    emails = list(emails)
    if not emails:
        return []
    connection = mailers.default
    try:
        connection.open()
    except (OSError, smtplib.SMTPException) as error:  # refused, timed out, TLS, authentication
        outcomes = [Outcome(key, "retry", reply_code(error), describe(error)) for key, _ in emails]
        if after_wave:
            after_wave(outcomes)
        return outcomes
    outcomes: list[Outcome] = []
    reported = 0
    senders: dict[str, str] = {}  # from_email -> its envelope address
    try:
        for index, (key, email) in enumerate(emails):
            if after_wave and wave and len(outcomes) - reported >= wave:
                after_wave(outcomes[reported:])
                reported = len(outcomes)
            try:
                sent = send_one(connection, email, senders)
            except smtplib.SMTPServerDisconnected as error:
                outcomes += [Outcome(k, "retry", None, describe(error)) for k, _ in emails[index:]]
                break
            except smtplib.SMTPRecipientsRefused as error:  # at RCPT TO: about this address
                code, reply = next(iter(error.recipients.values()), (None, b""))
                outcomes.append(Outcome(key, "bounce" if permanent(code) else "retry", code, text(reply)))
            except smtplib.SMTPResponseException as error:  # MAIL FROM or DATA refused
                kind = "failed" if permanent(error.smtp_code) else "retry"
                outcomes.append(Outcome(key, kind, error.smtp_code, text(error.smtp_error)))
            except (OSError, smtplib.SMTPException) as error:  # the connection broke mid-batch
                outcomes += [Outcome(k, "retry", None, describe(error)) for k, _ in emails[index:]]
                break
            except ValueError as error:  # an address Django cannot encode
                outcomes.append(Outcome(key, "failed", None, describe(error)))
            else:
                outcomes.append(Outcome(key, "sent" if sent else "failed"))
        if after_wave and len(outcomes) > reported:
            after_wave(outcomes[reported:])
    finally:
        try:
            connection.close()
        except Exception:  # the server went away first: nothing left to close
            logger.debug("Closing the SMTP connection failed", exc_info=True)
    return outcomes


def send_one(connection, email: EmailMessage, senders: dict[str, str]) -> bool:
    """One email through the open connection. An email with prepared bytes (compose.Email.raw:
    what Django's SMTP backend would make of it, built once per message) goes to the backend's
    smtplib connection as they are, as the backend's own _send() would send them (pipelined when
    the server offers it); anything else, or another backend, goes through send_messages()."""
    raw = getattr(email, "raw", None)
    smtp = getattr(connection, "connection", None)
    if raw is None or smtp is None or not isinstance(connection, SMTPBackend):
        return bool(connection.send_messages([email]))
    if (sender := senders.get(email.from_email)) is None:
        sender = senders[email.from_email] = connection.prep_address(email.from_email)
    pipelining.sendmail(smtp, sender, email.to, raw)  # compose checked email.to: one plain address
    return True


def permanent(code) -> bool:
    return isinstance(code, int) and 500 <= code <= 599


def reply_code(error) -> int | None:
    return getattr(error, "smtp_code", None)


def text(reply) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return str(reply)[:500]


def describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:500]
