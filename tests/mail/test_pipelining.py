"""ESMTP PIPELINING (RFC 2920) in send_batch's fast path, against real servers: aiosmtpd on
loopback made to advertise PIPELINING (it reads pipelined commands as they come), scripted to
refuse a given MAIL, RCPT or DATA or to hang up; and Postfix's smtp-sink when it is installed.
What arrives is what arrives without pipelining; each refusal is sorted as before (bounce,
retry, failed) and the emails after it still go through the same connection. An email's message
goes in the same write as the next email's commands: a refusal or a hang-up between them is
given to the right email, and a wave reports only the emails whose reply was read."""

from __future__ import annotations

import os
import pwd
import shutil
import smtplib
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from inbox.mail import pipelining
from inbox.mail.compose import Email, Item, notification_emails
from inbox.mail.sender import send_batch

from .conftest import Handler, free_port, serving

DROP = "drop"  # a script's reply: hang up instead of answering


@dataclass
class Scripted(Handler):
    """conftest's recording server advertising PIPELINING, with `script[(command, n)]`: the reply
    to the n-th MAIL, RCPT or DATA (counted from 1; DATA's is the reply to the message's end),
    or DROP to close the connection there. A refused RCPT in `lying` is still kept, so that DATA
    is answered 354 although no recipient was accepted."""

    script: dict[tuple[str, int], str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    mail_options: list[list[str]] = field(default_factory=list)
    lying: bool = False

    def scripted(self, server, command: str) -> str | None:
        with self.lock:
            self.counts[command] = n = self.counts.get(command, 0) + 1
        reply = self.script.get((command, n))
        if reply == DROP:
            server.transport.close()
        return reply

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        responses = await super().handle_EHLO(server, session, envelope, hostname, responses)
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if reply := self.scripted(server, "MAIL"):
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        self.mail_options.append(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if reply := self.scripted(server, "RCPT"):
            return reply
        reply = await super().handle_RCPT(server, session, envelope, address, rcpt_options)
        if self.lying and not reply.startswith("2"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server, session, envelope):
        if reply := self.scripted(server, "DATA"):
            return reply
        if not envelope.content:  # the lone "." that ends a DATA nobody can receive
            return "554 5.5.1 No valid recipients"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def pipelined(settings):
    """The default mailer pointed at a fresh aiosmtpd server that advertises PIPELINING."""
    with serving(settings, Scripted()) as handler:
        yield handler


@pytest.fixture
def writes(monkeypatch):
    """Every write the client makes on its SMTP connections, as bytes, in order."""
    sent: list[bytes] = []
    send = smtplib.SMTP.send

    def recording(self, s):
        sent.append(s if isinstance(s, bytes) else s.encode(self.command_encoding))
        return send(self, s)

    monkeypatch.setattr(smtplib.SMTP, "send", recording)
    return sent


def emails(count: int):
    item = Item(0, "Bob mentioned you", "/docs/42/", "info", "mention", timezone.now())
    return notification_emails(item, [(i, f"user{i}@example.com", 100 + i) for i in range(1, count + 1)])


def kinds(outcomes) -> list[str]:
    return [o.kind for o in outcomes]


def test_a_batch_arrives_as_it_does_without_pipelining(db, smtp, settings):
    prepared = emails(5)
    assert all(mail.raw is not None for _, mail in prepared)
    assert kinds(send_batch(prepared)) == ["sent"] * 5
    plain = smtp.received

    handler = Scripted()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        settings.MAILERS["default"]["OPTIONS"]["port"] = controller.port
        assert kinds(send_batch(prepared)) == ["sent"] * 5
    finally:
        controller.stop()

    assert handler.connections == 1
    assert [(r.mail_from, r.rcpt_tos, r.raw) for r in handler.received] == [
        (r.mail_from, r.rcpt_tos, r.raw) for r in plain
    ]
    assert handler.mail_options == [[f"SIZE={len(mail.raw)}"] for _, mail in prepared]
    first = handler.received[0]
    assert first.message["To"] == "user1@example.com" and first.message["List-Unsubscribe"]
    assert "Bob mentioned you" in first.text and "Bob mentioned you" in first.html


def commands(mail) -> bytes:
    """MAIL FROM, RCPT TO and DATA of one prepared email, as send_batch writes them to Scripted."""
    return (
        f"MAIL FROM:<inbox@example.com> SIZE={len(mail.raw)}\r\nRCPT TO:<{mail.to[0]}>\r\nDATA\r\n".encode()
    )


def message(mail) -> bytes:
    return mail.raw + b".\r\n"  # the prepared bytes end in CRLF and have no line starting with a dot


def transactions(writes) -> list[bytes]:
    return [w for w in writes if not w.startswith((b"ehlo", b"quit"))]


def test_each_message_goes_in_one_write_with_the_next_emails_commands(db, pipelined, writes):
    prepared = emails(3)
    assert kinds(send_batch(prepared)) == ["sent"] * 3

    (_, one), (_, two), (_, three) = prepared
    assert transactions(writes) == [
        commands(one),
        message(one) + commands(two),
        message(two) + commands(three),
        message(three),
    ]
    assert [r.rcpt_tos for r in pipelined.received] == [[m.to[0]] for m in (one, two, three)]


def test_without_pipelining_smtplib_sends_each_command_alone(db, smtp, writes):
    ((_, mail),) = prepared = emails(1)
    assert kinds(send_batch(prepared)) == ["sent"]
    assert writes[1:5] == [
        f"mail from:<inbox@example.com> size={len(mail.raw)}\r\n".encode(),
        b"rcpt to:<user1@example.com>\r\n",
        b"data\r\n",
        mail.raw + b".\r\n",
    ]


def test_a_5xx_at_rcpt_is_a_bounce_and_the_next_emails_still_go(db, pipelined):
    pipelined.refuse("user2@example.com", 550)
    outcomes = send_batch(emails(4))

    assert kinds(outcomes) == ["sent", "bounce", "sent", "sent"]
    assert outcomes[1].code == 550 and "No such user" in outcomes[1].detail
    assert [r.rcpt_tos for r in pipelined.received] == [
        ["user1@example.com"],
        ["user3@example.com"],
        ["user4@example.com"],
    ]
    assert pipelined.connections == 1


def test_a_4xx_at_mail_is_retried_and_the_next_emails_still_go(db, pipelined):
    pipelined.script[("MAIL", 2)] = "451 4.3.0 Try again later"
    outcomes = send_batch(emails(3))

    assert kinds(outcomes) == ["sent", "retry", "sent"]
    assert outcomes[1].code == 451
    assert [r.rcpt_tos for r in pipelined.received] == [["user1@example.com"], ["user3@example.com"]]
    assert pipelined.connections == 1


@pytest.mark.parametrize(
    ("reply", "kind"), [("554 5.6.0 Message refused", "failed"), ("451 4.3.0 Later", "retry")]
)
def test_a_refused_message_is_failed_or_retried_and_the_next_emails_still_go(db, pipelined, reply, kind):
    pipelined.script[("DATA", 1)] = reply
    outcomes = send_batch(emails(3))

    assert kinds(outcomes) == [kind, "sent", "sent"]
    assert outcomes[0].code == int(reply[:3])
    assert [r.rcpt_tos for r in pipelined.received] == [["user2@example.com"], ["user3@example.com"]]


def test_a_data_taken_after_every_rcpt_was_refused_is_ended_empty(db, pipelined, writes):
    pipelined.lying = True  # RCPT refused, yet DATA answered 354
    pipelined.refuse("user1@example.com", 550)
    outcomes = send_batch(emails(2))

    assert kinds(outcomes) == ["bounce", "sent"]
    assert b".\r\n" in writes and b"rset\r\n" in writes  # the empty message, then RSET
    assert [r.rcpt_tos for r in pipelined.received] == [["user2@example.com"]]
    assert pipelined.connections == 1


def test_a_421_closes_the_connection_and_the_rest_is_retried(db, pipelined):
    pipelined.script[("RCPT", 2)] = "421 4.3.2 Shutting down"
    outcomes = send_batch(emails(4))

    assert kinds(outcomes) == ["sent", "retry", "retry", "retry"]
    assert outcomes[1].code == 421
    assert [r.rcpt_tos for r in pipelined.received] == [["user1@example.com"]]


def test_a_server_that_hangs_up_mid_batch_leaves_the_rest_to_retry(db, pipelined):
    pipelined.script[("DATA", 3)] = DROP
    outcomes = send_batch(emails(5))

    assert kinds(outcomes) == ["sent", "sent", "retry", "retry", "retry"]
    assert "SMTPServerDisconnected" in outcomes[2].detail
    assert len(pipelined.received) == 2


def test_the_message_is_dot_stuffed_and_ended_as_smtplib_does(db, pipelined):
    raw = b"Subject: dots\r\nTo: ann@example.com\r\n\r\n.starts with a dot\r\n..two\r\nno final newline"
    mail = Email("dots", "", "inbox@example.com", ["ann@example.com"])
    mail.raw = raw

    assert kinds(send_batch([(1, mail)])) == ["sent"]
    (received,) = pipelined.received
    assert received.raw == raw + b"\r\n"
    assert pipelining.framed(raw) == raw.replace(b"\r\n.", b"\r\n..") + b"\r\n.\r\n"


# ---------------------------------------------------------------- a message and the next commands, one write


def test_a_refused_message_and_a_refused_next_recipient_in_one_write_are_each_their_own(
    db, pipelined, writes
):
    pipelined.script[("DATA", 1)] = "554 5.6.0 Message refused"  # the reply to the first message
    pipelined.refuse("user2@example.com", 550)  # the next email's RCPT, in the same write
    prepared = emails(3)
    outcomes = send_batch(prepared)

    assert [(o.key, o.kind, o.code) for o in outcomes] == [
        (1, "failed", 554),
        (2, "bounce", 550),
        (3, "sent", None),
    ]
    assert "Message refused" in outcomes[0].detail and "No such user" in outcomes[1].detail
    (_, one), (_, two), (_, three) = prepared
    # no RSET after the refused message: its end closed the transaction (RFC 5321, 4.1.1.4)
    assert transactions(writes) == [
        commands(one),
        message(one) + commands(two),
        b"rset\r\n",  # after the refused RCPT, as smtplib does
        commands(three),
        message(three),
    ]
    assert [r.rcpt_tos for r in pipelined.received] == [["user3@example.com"]]
    assert pipelined.connections == 1


def test_a_5xx_at_the_next_rcpt_leaves_the_message_before_it_sent(db, pipelined, writes):
    pipelined.refuse("user2@example.com", 550)
    prepared = emails(2)
    outcomes = send_batch(prepared)

    assert [(o.kind, o.code) for o in outcomes] == [("sent", None), ("bounce", 550)]
    (_, one), (_, two) = prepared
    assert transactions(writes) == [commands(one), message(one) + commands(two), b"rset\r\n"]
    assert [r.rcpt_tos for r in pipelined.received] == [["user1@example.com"]]


@pytest.mark.parametrize("command", ["MAIL", "RCPT"])
def test_a_hang_up_after_a_message_was_taken_retries_only_the_emails_after_it(db, pipelined, command):
    pipelined.script[(command, 3)] = DROP  # after the reply to the second message
    outcomes = send_batch(emails(5))

    assert kinds(outcomes) == ["sent", "sent", "retry", "retry", "retry"]
    assert all("SMTPServerDisconnected" in o.detail for o in outcomes[2:])
    assert [r.rcpt_tos for r in pipelined.received] == [["user1@example.com"], ["user2@example.com"]]


def test_a_421_to_a_message_retries_it_and_the_emails_whose_commands_followed(db, pipelined, writes):
    pipelined.script[("DATA", 2)] = "421 4.3.2 Shutting down"
    prepared = emails(4)
    outcomes = send_batch(prepared)

    assert [(o.kind, o.code) for o in outcomes] == [
        ("sent", None),
        ("retry", 421),
        ("retry", None),
        ("retry", None),
    ]
    assert all("SMTPServerDisconnected" in o.detail for o in outcomes[2:])
    assert [r.rcpt_tos for r in pipelined.received] == [["user1@example.com"]]
    (_, one), (_, two), (_, three), _ = prepared
    assert transactions(writes) == [
        commands(one),
        message(one) + commands(two),
        message(two) + commands(three),
    ]


@pytest.mark.parametrize("server", ["pipelined", "smtp"])
def test_a_wave_reports_only_emails_whose_reply_was_read(db, request, server):
    handler = request.getfixturevalue(server)  # with PIPELINING and without: the same waves
    handler.refuse("user3@example.com", 550)
    waves = []

    def after_wave(outcomes):
        arrived = {r.rcpt_tos[0] for r in handler.received}
        waves.append([(o.key, o.kind, f"user{o.key}@example.com" in arrived) for o in outcomes])

    outcomes = send_batch(emails(5), wave=2, after_wave=after_wave)

    assert kinds(outcomes) == ["sent", "sent", "bounce", "sent", "sent"]
    assert waves == [
        [(1, "sent", True), (2, "sent", True)],
        [(3, "bounce", False), (4, "sent", True)],
        [(5, "sent", True)],
    ]


def test_an_error_in_after_wave_with_a_message_held_drops_it_without_waiting(
    db, pipelined, writes, monkeypatch
):
    replies = []
    getreply = smtplib.SMTP.getreply
    monkeypatch.setattr(smtplib.SMTP, "getreply", lambda self: replies.append(1) or getreply(self))
    read = []

    def after_wave(outcomes):  # called with the first email's outcome, the second's message held
        read.append(len(replies))
        raise RuntimeError("the receipts' database is down")

    prepared = emails(3)
    with pytest.raises(RuntimeError):
        send_batch(prepared, wave=1, after_wave=after_wave)

    assert len(replies) == read[0]  # nothing read after: no QUIT awaited inside the open DATA
    (_, one), (_, two), _ = prepared
    assert transactions(writes)[:2] == [commands(one), message(one) + commands(two)]
    assert not any(message(two) in w for w in writes)  # the held message never went out
    assert [r.rcpt_tos for r in pipelined.received] == [["user1@example.com"]]


def test_an_email_without_prepared_bytes_goes_after_the_held_message(db, pipelined):
    prepared = emails(3)
    prepared[1][1].raw = None  # Django builds and sends it through smtplib's sendmail()
    assert kinds(send_batch(prepared)) == ["sent"] * 3
    assert [r.rcpt_tos for r in pipelined.received] == [[f"user{i}@example.com"] for i in (1, 2, 3)]
    assert pipelined.connections == 1


def test_an_address_with_a_newline_fails_alone_and_in_its_place(db, pipelined):
    prepared = emails(3)
    prepared[1][1].to = ["user2@example.com\r\nRSET"]
    outcomes = send_batch(prepared)

    assert kinds(outcomes) == ["sent", "failed", "sent"]
    assert "prohibited newline" in outcomes[1].detail
    assert [r.rcpt_tos for r in pipelined.received] == [["user1@example.com"], ["user3@example.com"]]


# ---------------------------------------------------------------- Postfix's smtp-sink (when installed)


@pytest.fixture
def sink(settings):
    """Postfix's smtp-sink (C, PIPELINING) on a free port, appending each message to a dump file."""
    binary = shutil.which("smtp-sink") or next(
        (p for p in ("/usr/sbin/smtp-sink", "/usr/bin/smtp-sink") if os.access(p, os.X_OK)), None
    )
    if binary is None:
        pytest.skip("Postfix's smtp-sink is not installed (apt-get install postfix)")
    directory = Path(tempfile.mkdtemp(prefix="inbox-smtp-sink-"))
    command = [binary, "-c", "-D", str(directory / "dump")]
    if os.geteuid() == 0:  # smtp-sink drops root privileges: its user must write the dump
        os.chown(directory, pwd.getpwnam("nobody").pw_uid, -1)
        command += ["-u", "nobody"]
    port = free_port()
    counters = directory / "counters"
    with counters.open("wb") as out:  # a file: a pipe nobody reads would block it
        process = subprocess.Popen([*command, f"127.0.0.1:{port}", "16"], stdout=out)
    deadline = time.monotonic() + 5
    while not connectable(port):
        assert process.poll() is None and time.monotonic() < deadline, "smtp-sink did not start"
        time.sleep(0.05)
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    settings.DEFAULT_FROM_EMAIL = "Inbox <inbox@example.com>"
    settings.INBOX_SITE_URL = "https://inbox.example.com"
    try:
        yield directory
    finally:
        process.terminate()
        process.wait(5)
        shutil.rmtree(directory, ignore_errors=True)


def connectable(port: int) -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def test_smtp_sink_gets_one_email_per_user_through_one_connection(db, sink, writes):
    prepared = emails(50)
    assert kinds(send_batch(prepared)) == ["sent"] * 50

    dump = (sink / "dump").read_bytes()
    recipients = [line for line in dump.split(b"\n") if line.startswith(b"X-Rcpt-Args:")]
    assert sorted(recipients) == sorted(f"X-Rcpt-Args: <user{i}@example.com>".encode() for i in range(1, 51))
    assert dump.count(b"X-Mail-Args: <inbox@example.com>\n") == 50
    written = transactions(writes)  # the commands alone, then each message with the next commands
    assert len(written) == 51 and written[0].startswith(b"MAIL FROM:") and written[-1].endswith(b"\r\n.\r\n")
    assert sum(w.count(b"MAIL FROM:") == 1 and w.endswith(b"\r\nDATA\r\n") for w in written[:-1]) == 50


@pytest.mark.parametrize(
    "address",
    ["ann@example.com", "a.b+c@mail.example.org", "Ann <ann@example.com>", '"odd"@example.com', "x@y", ""],
)
def test_addresses_are_quoted_as_smtplib_quotes_them(address):
    assert pipelining.quoted(address) == pipelining.quoted_sender(address) == smtplib.quoteaddr(address)
