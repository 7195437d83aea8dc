"""Item 13: a push is at most 4,096 encrypted bytes (push services answer 413 above it), so the
payload goes out as UTF-8 and a long body is cut short with an ellipsis."""

# ruff: noqa: F811 (the imported push fixtures are used as arguments)
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import signing
from django.utils import timezone

from inbox.api import notify
from inbox.models import MESSAGE_MAX_LENGTH, Notification
from inbox.push.sender import encode_payload
from inbox.push.tasks import PAYLOAD_MAX_BYTES, deliver_push, fit_payload
from inbox.push.tokens import READ_TOKEN_SALT

from .receiver import MAX_BODY_BYTES

FAMILY = "👨\u200d👩\u200d👧"  # one emoji of five code points (18 bytes)


@pytest.mark.parametrize(
    ("text", "cut"),
    [
        pytest.param("Ж" * 700, False, id="700-cyrillic"),  # 4.5 KB as \u escapes: refused before
        pytest.param("😀" * 500, False, id="500-emoji"),  # 6 KB as escaped surrogate pairs
        pytest.param("a" * MESSAGE_MAX_LENGTH, False, id="2000-ascii"),
        pytest.param("字" * MESSAGE_MAX_LENGTH, True, id="2000-cjk"),  # 6,000 bytes even in UTF-8
        pytest.param("Ж" * MESSAGE_MAX_LENGTH, True, id="2000-cyrillic"),
        pytest.param("😀" * MESSAGE_MAX_LENGTH, True, id="2000-emoji"),
        pytest.param('"\n' * (MESSAGE_MAX_LENGTH // 2), True, id="2000-json-escapes"),
        pytest.param(FAMILY * (MESSAGE_MAX_LENGTH // 5), True, id="400-zwj-families"),
    ],
)
def test_a_long_message_arrives_cut_to_fit_4096_bytes(alice, receiver, subscribe, text, cut):
    subscribe(alice, "a")
    sent = notify(alice, text, url="/inbox/?filter=unread", level="warning")

    assert deliver_push.call(sent.message.pk)["sent"] == 1

    (push,) = receiver.received  # and none refused with 413 (the fixture checks `rejected`)
    assert push["size"] <= MAX_BODY_BYTES
    body = push["payload"]["body"]
    if cut:
        assert body.endswith("…")
        assert text.startswith(body[:-1])
        assert push["size"] > MAX_BODY_BYTES - 16  # cut to fit, not far shorter
    else:
        assert body == text
    notification = Notification.objects.get(recipient=alice)
    assert push["payload"] | {"body": None} == {  # every other field whole
        "title": "Inbox · Warning",
        "body": None,
        "url": "/inbox/?filter=unread",
        "id": notification.pk,
        "level": "warning",
        "unread": 1,
        "read_token": push["payload"]["read_token"],
    }
    assert signing.loads(push["payload"]["read_token"], salt=READ_TOKEN_SALT) == notification.pk


def test_an_emoji_sequence_is_never_cut_in_half():
    data = fit_payload({"title": "Inbox", "body": FAMILY * 400})
    assert data["body"].endswith(FAMILY + "…")
    assert len(encode_payload(data)) <= PAYLOAD_MAX_BYTES


def test_a_short_message_is_untouched(alice, receiver, subscribe):
    subscribe(alice, "a")
    sent = notify(alice, "Привет, 世界 😀", expires_at=timezone.now() + timedelta(hours=1))
    deliver_push.call(sent.message.pk)
    (push,) = receiver.received
    assert push["payload"]["body"] == "Привет, 世界 😀"


def test_the_title_is_cut_too_when_the_body_is_not_enough():
    data = {"title": "T" * 5000, "body": "B" * 5000, "url": "/inbox/", "id": 7}
    fitted = fit_payload(data)
    assert len(encode_payload(fitted)) <= PAYLOAD_MAX_BYTES
    assert fitted["body"] == "…" and fitted["title"].endswith("…")
    assert (fitted["url"], fitted["id"]) == ("/inbox/", 7)


def test_the_payload_is_compact_utf8():
    assert encode_payload({"body": "Жé", "id": 1}) == '{"body":"Жé","id":1}'.encode()
