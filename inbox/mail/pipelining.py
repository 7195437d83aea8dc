"""Emails one after another through an open smtplib connection, with ESMTP PIPELINING (RFC 2920)
when the server offers it.

smtplib has no pipelining: its sendmail() waits for the reply to MAIL FROM before it sends RCPT TO,
for that one before DATA, and for the message's before the next email: four round trips per
email. Here an email's MAIL FROM, RCPT TO and DATA go in one write, and its message goes in the
same write as the next email's commands, so each email costs one round trip: the replies come
back in order, the message's and then the next commands'. RFC 2920 (3.1) allows the message to
open a group of commands, and the end of the data ends the transaction whatever its reply (RFC
5321, 4.1.1.4), so a refused message needs no RSET before the next MAIL FROM.

`Pipeline.send()` therefore returns results of earlier emails too: each is (key, True) when the
server took the email, or (key, error) with smtplib's own errors (SMTPSenderRefused,
SMTPRecipientsRefused, SMTPDataError, SMTPServerDisconnected...), so callers sort them as they
would sendmail's; every email's result comes exactly once, in the order the emails were given.
After a refused MAIL FROM or RCPT TO the connection is left ready for the next email (RSET, or a
lone dot when DATA was taken anyway); after a 421, or a reply it cannot read, it is closed. A
message waits for the next email's commands: `flush()` sends the last one, and whoever stops
early calls `abandon()`."""

from __future__ import annotations

import contextlib
import functools
import re
import smtplib
from collections.abc import Hashable, Sequence

from .compose import PLAIN_ADDRESS

__all__ = ["Pipeline", "Result"]

ACCEPTED = (250, 251)
CLOSING = 421
LINE_START_DOT = re.compile(rb"(?m)^\.")
FAILURES = (OSError, smtplib.SMTPException, ValueError)  # what smtplib's sendmail() raises

type Result = tuple[Hashable, bool | Exception]  # (key, True) or (key, the error)


class Pipeline:
    """The emails of a batch through `smtp`, an open connection. Without PIPELINING each goes
    through smtplib's sendmail() as it comes."""

    def __init__(self, smtp: smtplib.SMTP):
        self.smtp = smtp
        self.held: tuple[Hashable, bytes] | None = None  # the key and framed message after a 354

    def send(self, key: Hashable, sender: str, recipients: Sequence[str], msg: bytes) -> list[Result]:
        """smtplib.SMTP.sendmail(sender, recipients, msg) for bytes that already end lines in CRLF.
        Returns the results now known: the held email's, whose message went out with this one's
        commands, and this one's unless its own message is now held. An email taken for some of
        several recipients counts as taken (sendmail returns the others)."""
        smtp = self.smtp
        try:
            smtp.ehlo_or_helo_if_needed()
            if not (smtp.does_esmtp and smtp.has_extn("pipelining")):
                smtp.sendmail(sender, list(recipients), msg)
                return [(key, True)]
            commands = transaction(smtp, sender, recipients, len(msg))
        except FAILURES as error:  # nothing of this email was sent
            return [*self.flush(), (key, error)]
        keys = [self.held[0], key] if self.held else [key]  # whose replies this write brings
        results: list[Result] = []
        try:
            smtp.send(self.take() + commands)
            if len(keys) == 2:
                results.append((keys[0], self.ended()))
                if smtp.sock is None:  # a 421: the server left before it read these commands
                    raise smtplib.SMTPServerDisconnected("The server closed the connection (421)")
            if (error := self.refusal(sender, recipients)) is not None:
                results.append((key, error))
            else:
                self.held = (key, framed(msg))
        except (OSError, smtplib.SMTPException) as error:  # the connection broke, or lost its step
            smtp.close()
            results += [(k, error) for k in keys[len(results) :]]
        return results

    def flush(self) -> list[Result]:
        """Send the held message alone and read its reply: the batch ends, or the next email
        goes another way."""
        if self.held is None:
            return []
        key = self.held[0]
        try:
            self.smtp.send(self.take())
            return [(key, self.ended())]
        except (OSError, smtplib.SMTPException) as error:
            self.smtp.close()
            return [(key, error)]

    def abandon(self) -> None:
        """Stop with a message held (an exception elsewhere): close the connection without ending
        it, so the server drops it. A QUIT would be read as a line of the message, and its
        reply awaited until the timeout."""
        if self.held is not None:
            self.held = None
            self.smtp.close()

    def take(self) -> bytes:
        """The held message's bytes, no longer held (b"" when there is none)."""
        message = self.held[1] if self.held else b""
        self.held = None
        return message

    def ended(self) -> bool | Exception:
        """The reply to a message's end: True, or the refusal (a 421 closes the connection)."""
        code, reply = self.smtp.getreply()
        if code == 250:
            return True
        if code == CLOSING:
            self.smtp.close()
        return smtplib.SMTPDataError(code, reply)

    def refusal(self, sender: str, recipients: Sequence[str]) -> Exception | None:
        """Read the replies to MAIL FROM, each RCPT TO and DATA: None when the server waits for
        the message, else the error as sendmail() raises it, the connection made ready for the
        next email or closed after a 421."""
        smtp = self.smtp
        replies = []
        for _ in range(len(recipients) + 2):  # a 421 closes the connection: no reply follows it
            replies.append(smtp.getreply())
            if replies[-1][0] == CLOSING:
                break
        mail_code, mail_reply = replies[0]
        refused = {
            recipient: reply
            for recipient, reply in zip(recipients, replies[1 : len(recipients) + 1], strict=False)
            if reply[0] not in ACCEPTED
        }
        code, reply = replies[-1]  # DATA's, or the 421 that cut the replies short
        waiting = code == 354  # the server waits for the message
        if mail_code != 250:
            error = smtplib.SMTPSenderRefused(mail_code, mail_reply, sender)
        elif len(refused) == len(recipients) or len(replies) < len(recipients) + 2:  # all, or a 421
            error = smtplib.SMTPRecipientsRefused(refused)
        elif not waiting:
            error = smtplib.SMTPDataError(code, reply)
        else:
            return None
        if waiting:  # DATA taken though MAIL or every RCPT was refused: end it empty (RFC 2920, 3.1)
            smtp.send(b".\r\n")
            code = smtp.getreply()[0]
        if code == CLOSING:
            smtp.close()
        else:
            reset(smtp)
        return error


def transaction(smtp: smtplib.SMTP, sender: str, recipients: Sequence[str], size: int) -> bytes:
    """MAIL FROM (with SIZE when the server takes it), RCPT TO per recipient and DATA, as bytes."""
    size_option = f" SIZE={size}" if smtp.has_extn("size") else ""
    commands = [f"MAIL FROM:{quoted_sender(sender)}{size_option}"]
    commands += [f"RCPT TO:{quoted(recipient)}" for recipient in recipients]
    commands.append("DATA")
    if any("\r" in command or "\n" in command for command in commands):
        raise ValueError("command and arguments contain prohibited newline characters")  # as putcmd()
    return "".join(f"{command}\r\n" for command in commands).encode(smtp.command_encoding)


def quoted(address: str) -> str:
    """smtplib.quoteaddr(address); a plain address (compose.PLAIN_ADDRESS: what its parser gives
    back unchanged) without the parser, which costs more than the rest of the commands."""
    return f"<{address}>" if PLAIN_ADDRESS.fullmatch(address) else smtplib.quoteaddr(address)


quoted_sender = functools.lru_cache(maxsize=64)(quoted)  # a few senders, every email


def framed(msg: bytes) -> bytes:
    """The message as DATA sends it: dot-stuffed and ended with "." on its own line (smtplib.data).
    Most messages have no line that starts with a dot: finding none is 4 times faster than the
    substitution."""
    stuffed = LINE_START_DOT.sub(b"..", msg) if msg.startswith(b".") or b"\n." in msg else msg
    if not stuffed.endswith(b"\r\n"):
        stuffed += b"\r\n"
    return stuffed + b".\r\n"


def reset(smtp: smtplib.SMTP) -> None:
    """RSET, as smtplib does after a refusal; a server already gone shows at the next email."""
    with contextlib.suppress(smtplib.SMTPServerDisconnected):
        smtp.rset()
