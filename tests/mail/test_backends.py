"""Every email goes through the site's configured email backend, whatever it is: an ESP's API
backend (django-anymail's test backend stands in for one), or a subclass of Django's SMTP backend
that changes each message (as a DKIM-signing or auditing backend does), delivered to a real SMTP
server on loopback."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from anymail.exceptions import AnymailAPIError
from anymail.message import AnymailRecipientStatus
from django.contrib.auth.models import User
from django.core import mail
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.tasks import default_task_backend

from inbox.api import notify
from inbox.mail.digests import run_digests
from inbox.mail.models import EmailBounce, EmailReceipt
from inbox.mail.tasks import deliver_email
from inbox.mail.tokens import read_read, read_unsubscribe
from inbox.models import Notification
from inbox.preferences import DigestSetting
from tests.outbox.rows import planned

from .conftest import Handler, serving

UNSUBSCRIBE = re.compile(r"<(https://inbox\.example\.com/inbox/mail/unsubscribe/([^/>]+)/)>")


class SigningBackend(SMTPBackend):
    """What a DKIM-signing or auditing backend does, through the backend's public API: it changes
    every message it is given, then lets Django's SMTP backend send them."""

    def send_messages(self, email_messages):
        for message in email_messages:
            message.extra_headers["X-Signed"] = "yes"
        return super().send_messages(email_messages)


@pytest.fixture(autouse=True)
def empty_queue():
    default_task_backend.clear()


@pytest.fixture
def esp(settings):
    """The default mailer is django-anymail's test backend: what an ESP's backend is given
    lands in django.core.mail.outbox, with what Anymail would post (anymail_test_params)."""
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}
    settings.DEFAULT_FROM_EMAIL = "Inbox <inbox@example.com>"
    settings.INBOX_SITE_URL = "https://inbox.example.com"
    mail.outbox = []
    return mail.outbox


@pytest.fixture
def signing(settings, smtp):
    """The aiosmtpd server of `smtp`, reached through SigningBackend."""
    settings.MAILERS = {
        "default": {**settings.MAILERS["default"], "BACKEND": f"{__name__}.{SigningBackend.__qualname__}"}
    }
    return smtp


def users(count: int) -> list[User]:
    return [User.objects.create_user(f"user{i}", email=f"user{i}@example.com") for i in range(count)]


def test_a_batch_through_an_esp_backend(db, esp):
    people = users(5)
    sent = notify(people, "Bob mentioned you in <Release notes>", url="/docs/42/", kind="mention")

    assert deliver_email.call(sent.message.pk) == {"sent": 5, "attempt": 1}

    assert sorted(m.to[0] for m in esp) == sorted(u.email for u in people)
    rows = {n.recipient_id: n.pk for n in Notification.objects.filter(message=sent.message)}
    by_address = {u.email: u for u in people}
    for message in esp:
        (address,) = message.to
        user = by_address[address]
        params = message.anymail_test_params  # what Anymail hands the ESP's API
        assert params["to"][0].addr_spec == address
        assert not params.get("cc") and not params.get("bcc")
        assert params["subject"] == "Mentions: Bob mentioned you in <Release notes>"
        headers = params["extra_headers"]
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert headers["Auto-Submitted"] == "auto-generated"
        url, token = UNSUBSCRIBE.fullmatch(headers["List-Unsubscribe"]).groups()
        assert (read_unsubscribe(token).user_id, read_unsubscribe(token).kind) == (user.pk, "mention")
        text = params["text_body"]
        html = params["html_body"]
        assert "Bob mentioned you in <Release notes>" in text
        assert "Bob mentioned you in &lt;Release notes&gt;" in html
        assert "https://inbox.example.com/docs/42/" in text and "https://inbox.example.com/docs/42/" in html
        assert url in text and url in html
        (read_url,) = re.findall(r"Mark as read: (\S+)", text)
        assert read_url in html
        proof = read_read(read_url.rstrip("/").rsplit("/", 1)[1])
        assert (proof.user_id, proof.notification_id) == (user.pk, rows[user.pk])
        assert message.anymail_status.status == {"sent"}
    assert EmailReceipt.objects.filter(message=sent.message).count() == 5


def test_an_esp_that_rejects_a_recipient_records_a_bounce_and_an_api_error_is_retried(db, esp, monkeypatch):
    """Anymail reports each message's fate on the message (`anymail_status`) and raises its own
    errors: a recipient the ESP rejects (on its suppression list, invalid) is a bounce, an API
    error is retried, and neither stops the rest of the batch."""
    ann, ben, cat = users(3)
    from anymail.backends.test import EmailBackend

    post = EmailBackend.post_to_esp

    def scripted(self, payload, message):
        if message.to == [ben.email]:
            message.anymail_test_response = {
                "recipient_status": {ben.email: AnymailRecipientStatus(message_id=None, status="rejected")}
            }
        elif message.to == [cat.email]:
            message.anymail_test_response = AnymailAPIError("503 from the ESP")
        return post(self, payload, message)

    monkeypatch.setattr(EmailBackend, "post_to_esp", scripted)
    sent = notify([ann, ben, cat], "Three of you", kind="mention")

    assert deliver_email.call(sent.message.pk) == {"sent": 1, "bounce": 1, "retry": 1, "attempt": 1}
    assert list(EmailReceipt.objects.values_list("user_id", flat=True)) == [ann.pk]
    bounce = EmailBounce.objects.get()
    assert (bounce.user, bounce.address) == (ben, ben.email)
    assert "rejected" in bounce.message
    ((task, args, _at),) = planned()  # the retry waits in the outbox for its backoff
    assert (task, args) == ("deliver_email", [sent.message.pk, [cat.pk], 2])


def test_a_subclass_of_the_smtp_backend_changes_every_email(db, settings, signing):
    settings.INBOX_MAIL_BATCH_SIZE = 4
    people = users(6)
    sent = notify(people, "Six of you", kind="mention")

    deliver_email.call(sent.message.pk)  # plans two batches, as hand-overs
    for _task, args, _at in planned():
        deliver_email.call(*args)

    assert sorted(r.rcpt_tos[0] for r in signing.received) == sorted(u.email for u in people)
    assert [r.message["X-Signed"] for r in signing.received] == ["yes"] * 6
    assert all(r.message["List-Unsubscribe"] for r in signing.received)
    assert signing.connections == 2  # one connection per batch, through the backend


def test_digests_go_through_the_sites_backend_too(db, settings, signing):
    settings.INBOX_DIGEST_SETTLE_SECONDS = 0
    from datetime import timedelta

    from django.utils import timezone

    people = users(3)
    notify(people, "Something to read later", kind="general")
    DigestSetting.objects.bulk_create(
        DigestSetting(user=u, frequency="daily", hour=8, next_due_at=timezone.now() - timedelta(minutes=1))
        for u in people
    )

    run_digests()

    assert sorted(r.rcpt_tos[0] for r in signing.received) == sorted(u.email for u in people)
    assert [r.message["X-Signed"] for r in signing.received] == ["yes"] * 3


@dataclass
class HangsUp(Handler):
    """conftest's recording server that closes the connection instead of answering the end of
    the `at`-th message (counted from 1)."""

    at: int = 2
    messages: int = 0

    async def handle_DATA(self, server, session, envelope):
        self.messages += 1
        if self.messages == self.at:
            server.transport.close()
            return "421 4.3.2 Going away"
        return await super().handle_DATA(server, session, envelope)


def test_a_server_that_hangs_up_mid_batch_leaves_that_email_and_the_rest_to_retry(db, settings):
    settings.INBOX_MAIL_WAVE_SIZE = 1
    people = users(4)
    sent = notify(people, "Four of you", kind="mention")
    with serving(settings, HangsUp(at=2)) as server:
        assert deliver_email.call(sent.message.pk) == {"sent": 1, "retry": 3, "attempt": 1}
    assert [r.rcpt_tos for r in server.received] == [[people[0].email]]
    assert list(EmailReceipt.objects.values_list("user_id", flat=True)) == [people[0].pk]
    ((_task, args, _at),) = planned()
    assert args == [sent.message.pk, [u.pk for u in people[1:]], 2]
