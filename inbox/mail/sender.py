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
from .pipelining import FAILURES, Result

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
    `after_wave(outcomes)` is called after every `wave` outcomes and at the end (receipts): with
    PIPELINING an email's outcome is known one email later (its message goes out with the next
    one's commands), and only known outcomes are reported."""
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
    smtp = getattr(connection, "connection", None)
    pipeline = pipelining.Pipeline(smtp) if isinstance(connection, SMTPBackend) and smtp else None
    outcomes: list[Outcome] = []
    reported = 0
    senders: dict[str, str] = {}  # from_email -> its envelope address
    try:
        for key, email in emails:
            results = send_one(connection, pipeline, key, email, senders)
            outcomes += [outcome(k, result) for k, result in results]
            if (broken := next((result for _, result in results if lost(result)), None)) is not None:
                outcomes += [Outcome(k, "retry", None, describe(broken)) for k, _ in emails[len(outcomes) :]]
                break
            while after_wave and wave and len(outcomes) - reported >= wave:  # two results can come at once
                after_wave(outcomes[reported : reported + wave])
                reported += wave
        if pipeline:
            outcomes += [outcome(k, result) for k, result in pipeline.flush()]
        if after_wave and len(outcomes) > reported:
            after_wave(outcomes[reported:])
    finally:
        if pipeline:
            pipeline.abandon()  # a message still held: an exception stopped the batch
        try:
            connection.close()
        except Exception:  # the server went away first: nothing left to close
            logger.debug("Closing the SMTP connection failed", exc_info=True)
    return outcomes


def send_one(
    connection,
    pipeline: pipelining.Pipeline | None,
    key: Hashable,
    email: EmailMessage,
    senders: dict[str, str],
) -> list[Result]:
    """One email through the open connection; returns the results now known (see Pipeline.send).
    An email with prepared bytes (compose.Email.raw: what Django's SMTP backend would make of it,
    built once per message) goes to the backend's smtplib connection as they are, as the
    backend's own _send() would send them (pipelined when the server offers it); anything else,
    or another backend, goes through send_messages(), after the message the pipeline holds."""
    raw = getattr(email, "raw", None)
    if raw is None or pipeline is None:
        done = pipeline.flush() if pipeline else []
        try:
            return [*done, (key, bool(connection.send_messages([email])))]
        except FAILURES as error:
            return [*done, (key, error)]
    if (sender := senders.get(email.from_email)) is None:
        try:
            sender = senders[email.from_email] = connection.prep_address(email.from_email)
        except ValueError as error:  # an address Django cannot encode
            return [*pipeline.flush(), (key, error)]
    return pipeline.send(key, sender, email.to, raw)  # compose checked email.to: one plain address


def outcome(key: Hashable, result: bool | Exception) -> Outcome:
    """One email's result sorted: True (sent), False (the backend sent nothing) or the error."""
    if result is True:
        return Outcome(key, "sent")
    if result is False:
        return Outcome(key, "failed")
    if isinstance(result, smtplib.SMTPRecipientsRefused):  # at RCPT TO: about this address
        code, reply = next(iter(result.recipients.values()), (None, b""))
        return Outcome(key, "bounce" if permanent(code) else "retry", code, text(reply))
    if isinstance(result, smtplib.SMTPResponseException):  # MAIL FROM or DATA refused
        kind = "failed" if permanent(result.smtp_code) else "retry"
        return Outcome(key, kind, result.smtp_code, text(result.smtp_error))
    if isinstance(result, ValueError):  # an address Django cannot encode
        return Outcome(key, "failed", None, describe(result))
    return Outcome(key, "retry", None, describe(result))  # see lost()


def lost(result: bool | Exception) -> bool:
    """The connection broke (an OSError or smtplib error other than a refusal): this email and
    the rest are retried."""
    refusal = (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException)
    return isinstance(result, (OSError, smtplib.SMTPException)) and not isinstance(result, refusal)


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
