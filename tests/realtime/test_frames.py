"""A broadcast's frames joined from pieces encoded once are the frames frame() makes."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User

from inbox.api import notify
from inbox.models import Notification
from inbox.realtime import frames, queries
from inbox.realtime.broadcast import Broadcast
from inbox.realtime.messages import State
from inbox.web import items

pytestmark = pytest.mark.django_db

AWKWARD = [
    "plain",
    'quotes " and \\\\ backslashes \\\\"',
    "</script><!-- -->",
    "line\nbreak\ttab\r\x00\x1f\x7f",
    "\u2028\u2029 é ü 東京 🎉",
    "",
]


@pytest.mark.parametrize("badge", [0, 7, 100])
def test_an_encoded_frame_is_frame_of_the_joined_content(badge):
    for first in AWKWARD:
        for second in AWKWARD:
            joined = frames.encoded_frame(frames.encoded(first) + frames.encoded(second), badge=badge)
            assert joined == frames.frame(first + second, badge=badge)
            content = {"content": first + second} if first + second else {}
            assert json.loads(joined) == {"badge": badge, "read": [], **content}


@pytest.mark.parametrize("token", ["a" * 64, "", 'x"<b>'])
@pytest.mark.parametrize("text", ['Deploy at <5pm> \\\\ "now"', "Café 東京 \u2028"])
def test_an_encoded_item_filled_is_the_encoded_item(text, token):
    user = User.objects.create_user("alice")
    notify(user, text, url='/x/?a="1"&b=2')
    n = Notification.objects.select_related("message").get()
    template = items.message_item(n.message, "all")
    filled = frames.encoded_item(template).filled(str(n.pk), frames.encoded(items.csrf_input(token or None)))
    assert filled == frames.encoded(template.fill(n.pk, token or None))
    assert filled == frames.encoded(frames.item(n, "all", token, oob=False))


def test_the_prepend_wrapper_encoded_is_prepend_encoded():
    head, tail = frames.encoded_prepender()
    assert head + frames.encoded("<li>x</li>") + tail == frames.encoded(frames.prepend("<li>x</li>"))


@pytest.mark.parametrize("place", ["all", "unread"])
@pytest.mark.parametrize("text", ['Deploy at <5pm> \\\\ "now"', "Café 東京 \u2028"])
def test_a_broadcasts_frame_is_frame_of_its_pieces(text, place):
    """What each socket of a broadcast gets, joined from pieces made once, is byte for byte the
    frame of the badge, the new item on top of the list and the announcement."""
    user = User.objects.create_user("alice")
    notify(user, text)
    n = Notification.objects.select_related("message").get()
    row = queries.Row(n.pk, user.pk, n.created, read=False, unread=3)
    broadcast = Broadcast(n.message)
    for _ in range(2):  # the second socket's frame from the pieces the first one made
        state = State(page="dashboard", top=True, filter=place, csrf="b" * 64)
        html = frames.badge(3) + frames.prepend(frames.item(n, place, state.csrf, oob=False))
        assert broadcast.frame(row, state) == frames.frame(html + frames.announce(n.message), badge=3)
        assert state.shown == {n.pk} and state.newest == (n.created, n.pk)
