"""Sending a batch of emails through the site's email backend (Django's default mailer: SMTP, a
site's DKIM-signing or auditing subclass, django-anymail's ESP backends, files, console), one
connection for the whole batch. Each email's answer is sorted into sent, retry (4xx, a connection
failure, an API error: later), bounce (a 5xx refusing the recipient, or an ESP rejecting it: stop
mailing that address) or failed (give up on this one email)."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

from django.core.mail import EmailMessage, mailers

from inbox.workers import stop_errors

__all__ = ["Outcome", "send_batch"]

logger = logging.getLogger(__name__)

# django-anymail's recipient statuses that mean the ESP will never deliver to this address (on
# its suppression list, or not an address): a bounce, as a 5xx at RCPT TO is.
ESP_REFUSALS = frozenset({"rejected", "invalid"})


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
    `after_wave(outcomes)` is called after every `wave` outcomes and at the end (receipts).

    The connection is opened once, then each email goes through the backend's send_messages()
    on it (Django's backends, and Anymail's, keep a connection they did not open themselves):
    one call per email, because send_messages() stops at the first refusal without saying which
    emails before it went out, and a refusal here is one user's bounce, not the batch's."""
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
    reported, stops = 0, stop_errors()
    try:
        for key, email in emails:
            try:
                result: bool | Exception = bool(connection.send_messages([email]))
            except stops:  # the task backend ends the run (RQ's timeout): not this email's error
                raise
            except Exception as error:  # sorted below; an ESP backend raises its own errors
                result = error
            outcomes.append(outcome(key, email, result))
            if lost(result):
                outcomes += [Outcome(k, "retry", None, describe(result)) for k, _ in emails[len(outcomes) :]]
                break
            if after_wave and wave and len(outcomes) - reported >= wave:
                after_wave(outcomes[reported:])
                reported = len(outcomes)
        if after_wave and len(outcomes) > reported:
            after_wave(outcomes[reported:])
    finally:
        try:
            connection.close()
        except Exception:  # the server went away first: nothing left to close
            logger.debug("Closing the mail connection failed", exc_info=True)
    return outcomes


def outcome(key: Hashable, email: EmailMessage, result: bool | Exception) -> Outcome:
    """One email's result sorted: True (sent), False (the backend sent nothing) or the error."""
    if refused := esp_refusal(email):  # whether Anymail raised or not (IGNORE_RECIPIENT_STATUS)
        return Outcome(key, "bounce", None, f"The ESP's status for this recipient: {refused}")
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
    if isinstance(result, ValueError):  # an address the backend cannot encode
        return Outcome(key, "failed", None, describe(result))
    # A lost connection (see lost()), or another backend's error (an ESP's API answered 5xx or
    # timed out): tried again later with backoff, up to INBOX_MAIL_MAX_ATTEMPTS.
    return Outcome(key, "retry", None, describe(result))


def esp_refusal(email: EmailMessage) -> str:
    """ "rejected" or "invalid" when django-anymail's backend reported that the ESP refused every
    recipient of this email (its documented `message.anymail_status`), else "". Read by name,
    so the core imports no ESP library."""
    status = getattr(getattr(email, "anymail_status", None), "status", None)
    if status and status <= ESP_REFUSALS:
        return ", ".join(sorted(status))
    return ""


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
