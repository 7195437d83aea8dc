"""One email through an open smtplib connection with ESMTP PIPELINING (RFC 2920) when the server
offers it.

smtplib has no pipelining: its sendmail() waits for the reply to MAIL FROM before it sends RCPT TO,
and for that one before DATA, so every email costs four round trips. Here MAIL FROM, RCPT TO and
DATA go in one write and their replies are read together, then the message: two round trips.
Errors are smtplib's own (SMTPSenderRefused, SMTPRecipientsRefused, SMTPDataError,
SMTPServerDisconnected), so callers sort them as they would sendmail's; after a refusal the
connection is left ready for the next email (RSET), or closed when the server said 421."""

from __future__ import annotations

import contextlib
import functools
import re
import smtplib
from collections.abc import Sequence

from .compose import PLAIN_ADDRESS

__all__ = ["sendmail"]

ACCEPTED = (250, 251)
CLOSING = 421
LINE_START_DOT = re.compile(rb"(?m)^\.")


def sendmail(smtp: smtplib.SMTP, sender: str, recipients: Sequence[str], msg: bytes) -> dict:
    """smtplib.SMTP.sendmail(sender, recipients, msg) for bytes that already end lines in CRLF,
    pipelined when the server advertises PIPELINING. Returns the recipients refused while
    others were accepted, as sendmail does."""
    smtp.ehlo_or_helo_if_needed()
    if not (smtp.does_esmtp and smtp.has_extn("pipelining")):
        return smtp.sendmail(sender, list(recipients), msg)
    size = f" SIZE={len(msg)}" if smtp.has_extn("size") else ""
    commands = [f"MAIL FROM:{quoted_sender(sender)}{size}"]
    commands += [f"RCPT TO:{quoted(recipient)}" for recipient in recipients]
    commands.append("DATA")
    if any("\r" in command or "\n" in command for command in commands):
        raise ValueError("command and arguments contain prohibited newline characters")  # as putcmd()
    smtp.send("".join(f"{command}\r\n" for command in commands).encode(smtp.command_encoding))

    replies = []
    for _ in commands:  # a 421 closes the connection: no reply follows it
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
    elif len(refused) == len(recipients) or len(replies) < len(commands):  # all, or a 421 cut them
        error = smtplib.SMTPRecipientsRefused(refused)
    elif not waiting:
        error = smtplib.SMTPDataError(code, reply)
    else:
        smtp.send(framed(msg))
        code, reply = smtp.getreply()
        if code == 250:
            return refused
        error = smtplib.SMTPDataError(code, reply)
        waiting = False
    if waiting:  # DATA taken though MAIL or every RCPT was refused: end it empty (RFC 2920, 3.1)
        smtp.send(b".\r\n")
        code = smtp.getreply()[0]
    if code == CLOSING:
        smtp.close()
    else:
        reset(smtp)
    raise error


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
