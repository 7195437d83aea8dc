"""smtplib's sendmail() with ESMTP PIPELINING (RFC 2920) when the server offers it: MAIL FROM,
every RCPT TO and DATA go in one write and their replies are read together, then the message:
two round trips per email where smtplib takes four or more. It raises what sendmail() raises
(SMTPSenderRefused, SMTPRecipientsRefused, SMTPDataError, SMTPServerDisconnected...) and leaves
the connection ready for the next email after a refusal, as sendmail() does; after a 421 it is
closed. Used by inbox.mail.backends.PipeliningSMTPBackend, which a site names in its settings."""

from __future__ import annotations

import contextlib
import re
import smtplib
from collections.abc import Sequence

__all__ = ["sendmail"]

ACCEPTED = (250, 251)
CLOSING = 421
LINE_START_DOT = re.compile(rb"(?m)^\.")
SIMPLE_ADDRESS = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def sendmail(smtp: smtplib.SMTP, sender: str, recipients: Sequence[str], msg: bytes) -> dict:
    """smtplib.SMTP.sendmail(sender, recipients, msg) for bytes whose lines end in CRLF. Returns
    the refused recipients when some were taken (as sendmail does)."""
    smtp.ehlo_or_helo_if_needed()
    if not (smtp.does_esmtp and smtp.has_extn("pipelining")):
        return smtp.sendmail(sender, list(recipients), msg)
    size = f" SIZE={len(msg)}" if smtp.has_extn("size") else ""
    commands = [f"MAIL FROM:{quoted(sender)}{size}"]
    commands += [f"RCPT TO:{quoted(recipient)}" for recipient in recipients]
    commands.append("DATA")
    if any("\r" in command or "\n" in command for command in commands):
        raise ValueError("command and arguments contain prohibited newline characters")  # as putcmd()
    smtp.send("".join(f"{command}\r\n" for command in commands).encode(smtp.command_encoding))
    replies = [reply(smtp) for _ in commands]
    (mail_code, mail_reply), (data_code, data_reply) = replies[0], replies[-1]
    refused = {
        recipient: answer
        for recipient, answer in zip(recipients, replies[1:-1], strict=True)
        if answer[0] not in ACCEPTED
    }
    if mail_code != 250:
        error: smtplib.SMTPException = smtplib.SMTPSenderRefused(mail_code, mail_reply, sender)
    elif len(refused) == len(recipients):
        error = smtplib.SMTPRecipientsRefused(refused)
    elif data_code != 354:
        error = smtplib.SMTPDataError(data_code, data_reply)
    else:
        smtp.send(framed(msg))
        code, answer = reply(smtp)
        if code != 250:
            reset(smtp)
            raise smtplib.SMTPDataError(code, answer)
        return refused
    if data_code == 354:  # DATA taken though MAIL or every RCPT was refused: end it empty (RFC 2920, 3.1)
        smtp.send(b".\r\n")
        reply(smtp)
    reset(smtp)
    raise error


def quoted(address: str) -> str:
    """smtplib.quoteaddr(address); an address of letters, digits and ".+_-" around one "@" (what
    its parser gives back unchanged) without the parser."""
    return f"<{address}>" if SIMPLE_ADDRESS.fullmatch(address) else smtplib.quoteaddr(address)


def reply(smtp: smtplib.SMTP) -> tuple[int, bytes]:
    """The next reply; a 421 (the server is leaving) closes the connection and ends the email,
    and the batch with it (smtplib's own word for it: SMTPServerDisconnected)."""
    code, answer = smtp.getreply()
    if code == CLOSING:
        smtp.close()
        raise smtplib.SMTPServerDisconnected(f"The server closed the connection: {code} {answer!r}")
    return code, answer


def framed(msg: bytes) -> bytes:
    """The message as DATA sends it: dot-stuffed and ended with "." on its own line (smtplib.data)."""
    stuffed = LINE_START_DOT.sub(b"..", msg) if msg.startswith(b".") or b"\n." in msg else msg
    if not stuffed.endswith(b"\r\n"):
        stuffed += b"\r\n"
    return stuffed + b".\r\n"


def reset(smtp: smtplib.SMTP) -> None:
    """RSET, as smtplib does after a refusal; a server already gone shows at the next email."""
    with contextlib.suppress(smtplib.SMTPServerDisconnected):
        smtp.rset()
