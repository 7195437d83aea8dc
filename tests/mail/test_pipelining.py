"""The opt-in PipeliningSMTPBackend (inbox.mail.backends), against aiosmtpd on loopback made to
advertise PIPELINING (it reads pipelined commands as they come) and scripted to refuse a given
MAIL, RCPT or DATA or to hang up. What arrives is what Django's SMTP backend delivers; MAIL, RCPT
and DATA go in one write; each refusal is sorted as with Django's backend (bounce, retry, failed)
and the emails after it still go through the same connection; an email changed after Inbox
composed it (a subclass adding a header) is built by Django."""

from __future__ import annotations

import email.policy
import smtplib
from dataclasses import dataclass, field

import pytest
from django.utils import timezone

from inbox.mail import pipelining
from inbox.mail.backends import PipeliningSMTPBackend, prepared_bytes
from inbox.mail.compose import Item, notification_emails
from inbox.mail.sender import send_batch

from .conftest import Handler, serving

BACKEND = "inbox.mail.backends.PipeliningSMTPBackend"
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


class SigningPipeliningBackend(PipeliningSMTPBackend):
    """A subclass that changes every message before it is sent (as a signing backend would)."""

    def send_messages(self, email_messages):
        for message in email_messages:
            message.extra_headers["X-Signed"] = "yes"
        return super().send_messages(email_messages)


def use(settings, backend: str = BACKEND) -> None:
    settings.MAILERS = {"default": {**settings.MAILERS["default"], "BACKEND": backend}}


@pytest.fixture
def pipelined(settings):
    """The default mailer, PipeliningSMTPBackend, pointed at a fresh aiosmtpd server that
    advertises PIPELINING."""
    with serving(settings, Scripted()) as handler:
        use(settings)
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


def comparable(received) -> tuple:
    """What a reader sees of a received email: the envelope, the headers but those that differ
    from one message to the next by design (Date, Message-ID, the multipart boundary), the parts."""
    message = received.message
    headers = [(k, v) for k, v in message.items() if k not in ("Date", "Message-ID", "Content-Type")]
    parts = (message.get_content_type(), received.text, received.html)
    return (received.mail_from, received.rcpt_tos, headers, *parts)


def test_a_batch_arrives_as_through_djangos_smtp_backend(db, settings, smtp):
    prepared = emails(4)
    assert kinds(send_batch(prepared)) == ["sent"] * 4  # Django's SMTP backend (the smtp fixture)
    django = [comparable(r) for r in smtp.received]

    with serving(settings, Scripted()) as handler:
        use(settings)
        assert all(prepared_bytes(mail) is not None for _, mail in prepared)  # the fast path is taken
        assert kinds(send_batch(prepared)) == ["sent"] * 4

    assert [comparable(r) for r in handler.received] == django
    assert handler.connections == 1
    # SIZE (RFC 1870): each message's own length (their Message-IDs differ in length by a digit or so)
    assert [r.raw.endswith(b"\r\n") for r in handler.received] == [True] * 4
    assert handler.mail_options == [[f"SIZE={len(r.raw)}"] for r in handler.received]
    assert len({r.message["Message-ID"] for r in handler.received}) == 4
    assert handler.received[0].message["List-Unsubscribe"].startswith("<https://inbox.example.com/")


def test_mail_rcpt_and_data_go_in_one_write(db, pipelined, writes):
    prepared = emails(2)
    assert kinds(send_batch(prepared)) == ["sent", "sent"]

    transactions = [w for w in writes if not w.startswith((b"ehlo", b"quit"))]
    size = len(pipelined.received[0].raw)
    assert transactions[0] == (
        f"MAIL FROM:<inbox@example.com> SIZE={size}\r\nRCPT TO:<user1@example.com>\r\nDATA\r\n".encode()
    )
    assert transactions[1].endswith(b"\r\n.\r\n")  # the message alone, then the next email's commands
    assert len(transactions) == 4


def test_a_subclass_that_changes_the_messages_gets_djangos_bytes_with_its_change(db, settings, pipelined):
    use(settings, f"{__name__}.{SigningPipeliningBackend.__qualname__}")
    assert kinds(send_batch(emails(3))) == ["sent"] * 3
    assert [r.message["X-Signed"] for r in pipelined.received] == ["yes"] * 3
    assert all(r.message["List-Unsubscribe"] for r in pipelined.received)


def test_an_address_django_must_encode_is_built_by_django(db, pipelined):
    item = Item(0, "Hi", "", "info", "mention", timezone.now())
    ((_, mail),) = notification_emails(item, [(1, "anne@bücher.example", 10)])
    assert prepared_bytes(mail) is None
    assert kinds(send_batch([(1, mail)])) == ["sent"]
    assert [r.rcpt_tos for r in pipelined.received] == [["anne@xn--bcher-kva.example"]]


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
    assert "421" in outcomes[1].detail
    assert [r.rcpt_tos for r in pipelined.received] == [["user1@example.com"]]


def test_a_server_that_hangs_up_mid_batch_leaves_the_rest_to_retry(db, pipelined):
    pipelined.script[("DATA", 3)] = DROP
    outcomes = send_batch(emails(5))

    assert kinds(outcomes) == ["sent", "sent", "retry", "retry", "retry"]
    assert "SMTPServerDisconnected" in outcomes[2].detail
    assert len(pipelined.received) == 2


def test_the_message_is_dot_stuffed_and_ended_as_smtplib_does():
    raw = b"Subject: dots\r\n\r\n.starts with a dot\r\n..two\r\nno final newline"
    assert pipelining.framed(raw) == raw.replace(b"\r\n.", b"\r\n..") + b"\r\n.\r\n"


def test_a_server_without_pipelining_gets_smtplibs_sendmail(db, settings, smtp, writes):
    use(settings)
    assert kinds(send_batch(emails(2))) == ["sent", "sent"]
    assert any(w.startswith(b"mail FROM:") or w.startswith(b"mail from:") for w in writes)  # smtplib's own
    assert [r.rcpt_tos for r in smtp.received] == [["user1@example.com"], ["user2@example.com"]]


def test_the_prepared_bytes_read_as_djangos(db):
    for _, mail in emails(2):
        ours = email.message_from_bytes(prepared_bytes(mail), policy=email.policy.default)
        django = email.message_from_bytes(
            mail.message(policy=email.policy.SMTP).as_bytes(), policy=email.policy.default
        )
        names = [n for n in django if n not in ("Date", "Message-ID")]
        assert [n for n in ours if n not in ("Date", "Message-ID")] == names
        for name in names:
            if name != "Content-Type":  # the same but for the random boundary
                assert ours[name] == django[name], name
        assert ours.get_body(("plain",)).get_content() == django.get_body(("plain",)).get_content()
        assert ours.get_body(("html",)).get_content() == django.get_body(("html",)).get_content()


@pytest.mark.parametrize(
    "address",
    [
        "ann@example.com",
        "a.b+c_d-e@mail.example.org",
        "o'brien!#$%&*/=?^`{|}~@example.com",
        "Ann <ann@example.com>",
        '"odd name"@example.com',
        "anne@bücher.example",
        "x@y",
    ],
)
def test_the_shortcuts_give_what_django_and_smtplib_give(settings, address):
    backend = PipeliningSMTPBackend(alias="default", host="127.0.0.1")
    try:
        expected = backend.prep_address(address)
    except ValueError:
        with pytest.raises(ValueError):
            backend.envelope_address(address)
    else:
        assert backend.envelope_address(address) == expected
        assert pipelining.quoted(expected) == smtplib.quoteaddr(expected)
    assert pipelining.quoted(address) == smtplib.quoteaddr(address)
