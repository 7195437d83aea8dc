"""Emails rendered once and filled in per recipient: each recipient gets their own links, hostile
text is escaped in the HTML part (and kept in the text part), long List-Unsubscribe URLs stay one
readable header line, and every email is an ordinary Django email that the site's backend sends
as it sends any other."""

from __future__ import annotations

import email.policy
from email import message_from_bytes

import pytest
from django.utils import timezone

from inbox.api import notify
from inbox.mail.compose import Digests, Item, Link, notification_emails
from inbox.mail.sender import send_batch
from inbox.mail.tasks import deliver_email
from inbox.mail.tokens import read_read, read_unsubscribe
from inbox.models import Notification

HOSTILE = "Bob said <script>alert(\"x\")</script> & <b>café</b> 'quoted'"
ESCAPED = (
    "Bob said &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; "
    "&amp; &lt;b&gt;café&lt;/b&gt; &#x27;quoted&#x27;"
)


@pytest.fixture(autouse=True)
def site(settings):
    settings.DEFAULT_FROM_EMAIL = "Inbox <inbox@example.com>"
    settings.INBOX_SITE_URL = "https://inbox.example.com"


def item(text=HOSTILE, kind="mention", url="/docs/42/") -> Item:
    return Item(0, text, url, "info", kind, timezone.now())


def parse(raw: bytes):
    return message_from_bytes(raw, policy=email.policy.default)


def read_link(text: str) -> str:
    (url,) = [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("Mark as read")]
    return url


def parts(message) -> tuple[str, str]:
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def wire(mail):
    """The email as Django's SMTP backend sends it (its message(policy=SMTP)), parsed back."""
    return parse(mail.message(policy=email.policy.SMTP).as_bytes())


def test_a_long_unsubscribe_url_stays_one_header_line_and_each_email_has_its_own_message_id(settings):
    settings.INBOX_SITE_URL = "https://inbox.example.com/" + "long-path/" * 12
    emails = notification_emails(item(), [(1, "ann@example.com", 10), (2, "bob@example.com", 11)])

    ids = set()
    for _, mail in emails:
        raw = mail.message(policy=email.policy.SMTP).as_bytes()
        (line,) = [line for line in raw.split(b"\r\n") if line.startswith(b"List-Unsubscribe:")]
        assert len(line) > 200 and b"=?" not in line  # not folded, not an RFC 2047 encoded word
        assert max(map(len, raw.split(b"\r\n"))) <= 998
        ids.add(parse(raw)["Message-ID"])
    assert len(ids) == 2


def test_each_recipient_gets_their_own_links_in_both_parts_and_the_header():
    emails = notification_emails(item(), [(1, "ann@example.com", 10), (2, "bob@example.com", 11)])

    for (user_id, mail), notification_id in zip(emails, (10, 11), strict=True):
        message = wire(mail)
        assert message["To"] == mail.to[0]
        text, html = parts(message)
        unsubscribe = message["List-Unsubscribe"].strip("<>")
        token = unsubscribe.rstrip("/").rsplit("/", 1)[1]
        assert (read_unsubscribe(token).user_id, read_unsubscribe(token).kind) == (user_id, "mention")
        read_url = read_link(text)
        proof = read_read(read_url.rstrip("/").rsplit("/", 1)[1])
        assert (proof.user_id, proof.notification_id) == (user_id, notification_id)
        for part in (text, html):
            assert unsubscribe in part and read_url in part
        # The Django email object says the same as its bytes.
        assert mail.body == text.replace("\r\n", "\n")
        assert mail.alternatives[0].content == html.replace("\r\n", "\n")
    other = wire(emails[1][1])
    assert wire(emails[0][1])["List-Unsubscribe"] != other["List-Unsubscribe"]


def test_a_hostile_message_text_is_escaped_in_html_and_kept_in_text():
    ((_, mail),) = notification_emails(item(), [(1, "ann@example.com", 10)])

    text, html = parts(wire(mail))
    assert HOSTILE in text
    assert ESCAPED in html
    assert "<script>" not in html and "<b>café" not in html


def test_a_per_user_value_is_escaped_in_html_only(settings):
    settings.INBOX_SITE_URL = "https://example.com/a&b"  # an & in every link
    ((_, mail),) = notification_emails(item(), [(1, "ann@example.com", 10)])

    text, html = parts(wire(mail))
    assert "Mark as read: https://example.com/a&b/inbox/mail/read/" in text
    assert 'href="https://example.com/a&amp;b/inbox/mail/read/' in html
    assert "a&b/inbox/mail/read" not in html
    assert wire(mail)["List-Unsubscribe"].startswith("<https://example.com/a&b/inbox/mail/unsubscribe/")


def test_a_text_cannot_forge_a_placeholder():
    # Placeholders carry a random part per rendering: a text made like one stays as it is.
    text = "z0123456789abcdeft0z z0123456789abcdefh0z"
    ((_, mail),) = notification_emails(item(text=text), [(1, "ann@example.com", 10)])
    assert text in parts(wire(mail))[0]


@pytest.mark.parametrize(
    ("address", "text"),
    [
        ("anne@bücher.example", "Hi"),  # an IDN domain: Django encodes it
        ('"odd name"@example.com', "Hi"),  # a quoted local part
        ("ann@example.com", "x" * 1200),  # a line too long: Django encodes the body
    ],
)
def test_unusual_addresses_and_long_lines_are_djangos_to_encode(address, text):
    ((_, mail),) = notification_emails(item(text=text), [(1, address, 10)])
    assert mail.to == [address]
    assert text[:100] in parts(wire(mail))[0]


def test_the_link_maker_is_reverse():
    from django.urls import reverse

    from inbox.mail.compose import absolute
    from inbox.mail.tokens import read_token

    token = read_token(5, 7)
    assert Link("inbox:mail_read")(token) == absolute(reverse("inbox:mail_read", args=[token]))


def test_a_batch_arrives_through_one_smtp_connection(db, smtp):
    emails = notification_emails(
        item(), [(1, "ann@example.com", 10), (2, "anne@bücher.example", 11), (3, "bob@example.com", 12)]
    )

    outcomes = send_batch(emails)

    assert [o.kind for o in outcomes] == ["sent"] * 3
    assert smtp.connections == 1
    assert [r.rcpt_tos for r in smtp.received] == [
        ["ann@example.com"],
        ["anne@xn--bcher-kva.example"],
        ["bob@example.com"],
    ]
    for received in smtp.received:
        text, html = received.text, received.html
        assert HOSTILE in text and ESCAPED in html


def test_a_delivery_fills_in_each_recipients_links(db, smtp, address, alice, bob):
    address(alice, "alice@example.com")
    address(bob, "bob@example.com")
    sent = notify([alice, bob], HOSTILE, kind="mention")

    assert deliver_email.call(sent.message.pk)["sent"] == 2

    for received, user in zip(smtp.received, (alice, bob), strict=True):
        notification = Notification.objects.get(recipient=user)
        read_url = read_link(received.text)
        proof = read_read(read_url.rstrip("/").rsplit("/", 1)[1])
        assert (proof.user_id, proof.notification_id) == (user.pk, notification.pk)
        assert ESCAPED in received.html


def test_digests_with_the_same_content_are_rendered_once_and_each_has_its_own_unsubscribe():
    items = [
        Item(1, HOSTILE, "", "info", "mention", timezone.now()),
        Item(2, "Build 7 passed", "/builds/7/", "info", "build.finished", timezone.now()),
    ]
    digests = Digests()
    first = digests.email(1, "ann@example.com", items, 3)
    second = digests.email(2, "bob@example.com", items, 3)

    assert len(digests.prototypes) == 1 and len(digests.items) == 2
    tokens = []
    for mail, user_id in ((first, 1), (second, 2)):
        message = wire(mail)
        text, html = parts(message)
        assert HOSTILE in text and ESCAPED in html and "<script>" not in html
        assert "https://inbox.example.com/inbox/" in text  # the item without a link leads to the inbox
        assert "https://inbox.example.com/builds/7/" in html
        assert "and 1 more" in text
        unsubscribe = message["List-Unsubscribe"].strip("<>")
        assert unsubscribe in text and unsubscribe in html
        token = read_unsubscribe(unsubscribe.rstrip("/").rsplit("/", 1)[1])
        assert (token.user_id, token.channel) == (user_id, "digest")
        tokens.append(unsubscribe)
    assert tokens[0] != tokens[1]

    third = digests.email(3, "cy@example.com", items[1:], 1)  # other content: its own rendering
    assert len(digests.prototypes) == 2
    assert HOSTILE not in wire(third).get_body(("plain",)).get_content()


def test_header_classes_made_once_give_the_message_the_standard_registry_gives():
    from django.core.mail import EmailMultiAlternatives

    from inbox.mail.compose import HEADER_CLASSES, LINE_LIMIT

    ((_, mail),) = notification_emails(item(), [(1, "Ann Example <ann@example.com>", 10)])
    mail.extra_headers |= {"Date": "Mon, 07 Dec 2026 16:00:00 +0000", "Message-ID": "<1@example.com>"}
    standard = email.policy.SMTP.clone(max_line_length=LINE_LIMIT)
    ours, theirs = wire(mail), parse(EmailMultiAlternatives.message(mail, policy=standard).as_bytes())

    def headers(message):  # all but Content-Type, whose multipart boundary is random
        return [(name, value) for name, value in message.items() if name != "Content-Type"]

    assert headers(ours) == headers(theirs) and len(headers(ours)) >= 8
    assert ours.get_content_type() == theirs.get_content_type() == "multipart/alternative"
    assert parts(ours) == parts(theirs)
    assert HEADER_CLASSES["subject"] is HEADER_CLASSES["Subject"]  # made once
