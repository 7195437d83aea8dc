from __future__ import annotations

from django.contrib.auth.models import User
from django.urls import reverse

from inbox.models import Message
from inbox.web.forms import SendForm

SEND = reverse("inbox:send")


def test_the_send_form_offers_the_kinds(staff_client):
    html = staff_client.get(SEND).content.decode()
    assert '<select name="kind"' in html
    assert '<option value="general" selected>General</option>' in html
    assert '<option value="security">Security alerts</option>' in html


def test_staff_send_a_kind(staff_client, alice):
    response = staff_client.post(
        SEND, {"message": "Mentioned", "usernames": "alice", "kind": "mention", "level": "info"}
    )
    assert response.status_code == 302
    assert Message.objects.get().kind == "mention"


def test_staff_may_send_a_must_deliver_kind(staff_client, alice):
    staff_client.post(
        SEND, {"message": "New sign-in", "usernames": "alice", "kind": "security", "level": "info"}
    )
    assert Message.objects.get().kind == "security"


def test_an_unknown_kind_is_a_422_on_the_form(staff_client, alice):
    for kind in ("nope", "x" * 10_000, "general\x00"):
        response = staff_client.post(
            SEND, {"message": "Hi", "usernames": "alice", "kind": kind}, headers={"HX-Request": "true"}
        )
        assert response.status_code == 422
        assert "Select a valid choice" in response.content.decode()
    assert not Message.objects.exists()


def test_no_kind_means_general(staff_client, alice):
    staff_client.post(SEND, {"message": "Hi", "usernames": "alice", "level": "info"})
    assert Message.objects.get().kind == "general"


def test_the_form_refuses_a_must_deliver_kind_from_a_non_staff_sender(alice):
    """A site may give the form to other users; "must deliver" stays staff-only."""
    sender = User.objects.create_user("editor")
    form = SendForm(
        {"message": "Hi", "usernames": "alice", "kind": "security", "level": "info"}, sender=sender
    )
    assert not form.is_valid()
    assert form.errors["kind"] == ["Only staff can send Security alerts."]
    assert "security" not in [value for value, _ in form.fields["kind"].widget.choices]
    form = SendForm(
        {"message": "Hi", "usernames": "alice", "kind": "mention", "level": "info"}, sender=sender
    )
    assert form.is_valid()
