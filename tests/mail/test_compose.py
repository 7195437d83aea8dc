"""Emails rendered once and filled in per recipient: the prepared bytes are what Django would
send, each recipient gets their own links, hostile text is escaped in the HTML part (and kept in
the text part), and anything the fast path cannot reproduce goes through Django whole."""

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


def django_bytes(mail) -> bytes:
    """What Django's SMTP backend makes of the email (its _send())."""
    return mail.message(policy=email.policy.SMTP).as_bytes()


def test_the_prepared_bytes_are_what_django_would_send():
    emails = notification_emails(item(), [(1, "ann@example.com", 10), (2, "bob@example.com", 11)])

    ids = set()
    for _, mail in emails:
        assert mail.raw is not None
        ours, django = parse(mail.raw), parse(django_bytes(mail))
        names = [name for name in django if name not in ("Date", "Message-ID")]
        assert [name for name in ours if name not in ("Date", "Message-ID")] == names
        for name in names:
            if name == "Content-Type":  # the same but for the random multipart boundary
                assert ours.get_content_type() == django.get_content_type() == "multipart/alternative"
            else:
                assert ours[name] == django[name], name
        for ours_part, django_part in zip(ours.walk(), django.walk(), strict=True):
            assert ours_part.get_content_type() == django_part.get_content_type()
            if not ours_part.is_multipart():
                assert ours_part.get_content() == django_part.get_content()
                assert ours_part["Content-Transfer-Encoding"] == django_part["Content-Transfer-Encoding"]
        ids.add(ours["Message-ID"])
        assert max(map(len, mail.raw.split(b"\r\n"))) <= 998
    assert len(ids) == 2  # each email its own Message-ID


def test_each_recipient_gets_their_own_links_in_both_parts_and_the_header():
    emails = notification_emails(item(), [(1, "ann@example.com", 10), (2, "bob@example.com", 11)])

    for (user_id, mail), notification_id in zip(emails, (10, 11), strict=True):
        message = parse(mail.raw)
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
    other = parse(emails[1][1].raw)
    assert parse(emails[0][1].raw)["List-Unsubscribe"] != other["List-Unsubscribe"]


def test_a_hostile_message_text_is_escaped_in_html_and_kept_in_text():
    ((_, mail),) = notification_emails(item(), [(1, "ann@example.com", 10)])

    text, html = parts(parse(mail.raw))
    assert HOSTILE in text
    assert ESCAPED in html
    assert "<script>" not in html and "<b>café" not in html


def test_a_per_user_value_is_escaped_in_html_only(settings):
    settings.INBOX_SITE_URL = "https://example.com/a&b"  # an & in every link
    ((_, mail),) = notification_emails(item(), [(1, "ann@example.com", 10)])

    text, html = parts(parse(mail.raw))
    assert "Mark as read: https://example.com/a&b/inbox/mail/read/" in text
    assert 'href="https://example.com/a&amp;b/inbox/mail/read/' in html
    assert "a&b/inbox/mail/read" not in html
    assert parse(mail.raw)["List-Unsubscribe"].startswith("<https://example.com/a&b/inbox/mail/unsubscribe/")


def test_a_text_cannot_forge_a_placeholder():
    # Placeholders carry a random part per rendering: a text made like one stays as it is.
    text = "z0123456789abcdeft0z z0123456789abcdefh0z"
    ((_, mail),) = notification_emails(item(text=text), [(1, "ann@example.com", 10)])
    assert text in parts(parse(mail.raw))[0]


@pytest.mark.parametrize(
    ("address", "text"),
    [
        ("anne@bücher.example", "Hi"),  # an IDN domain: Django encodes it
        ('"odd name"@example.com', "Hi"),  # a quoted local part
        ("ann@example.com", "x" * 1200),  # a line too long: Django encodes the body
    ],
)
def test_what_the_fast_path_cannot_reproduce_goes_through_django(address, text):
    ((_, mail),) = notification_emails(item(text=text), [(1, address, 10)])
    assert mail.raw is None
    assert text[:100] in parts(mail.message())[0]


def test_the_link_maker_is_reverse():
    from django.urls import reverse

    from inbox.mail.compose import absolute
    from inbox.mail.tokens import read_token

    token = read_token(5, 7)
    assert Link("inbox:mail_read")(token) == absolute(reverse("inbox:mail_read", args=[token]))


def test_prepared_and_django_built_emails_arrive_alike_through_smtp(db, smtp):
    emails = notification_emails(
        item(), [(1, "ann@example.com", 10), (2, "anne@bücher.example", 11), (3, "bob@example.com", 12)]
    )
    assert [mail.raw is not None for _, mail in emails] == [True, False, True]

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


def test_a_delivery_uses_the_prepared_bytes(db, smtp, address, alice, bob):
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
        message = parse(mail.raw)
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
    assert HOSTILE not in parse(third.raw).get_body(("plain",)).get_content()
