"""Error pages (config/errors.py): a whole page for a normal request, a short out-of-band
message for an htmx request, never a second header and bell swapped into a list."""

from __future__ import annotations

import pytest
from django.core.exceptions import BadRequest
from django.test import RequestFactory

from config import errors

HTMX = {"HX-Request": "true"}
GONE = "That notification is gone: it was deleted or expired."


def assert_fragment(response, status: int, message: str) -> None:
    html = response.content.decode()
    assert response.status_code == status
    assert html.startswith('<p id="request-message-text" hx-swap-oob="innerHTML">')
    assert message in html
    for whole_page in ("<html", "<header", "<nav", "inbox-badge", "<h1"):
        assert whole_page not in html
    assert len(html) < 300


def test_an_htmx_action_on_a_gone_notification_gets_a_short_message(alice_client, alice, make_notifications):
    (notification,) = make_notifications(alice, 1)
    pk = notification.pk
    notification.delete()
    response = alice_client.post(f"/inbox/{pk}/read/", {"place": "all"}, headers=HTMX)
    assert_fragment(response, 404, GONE)


def test_an_expired_notification_is_gone_too(alice_client, alice, make_notifications):
    (notification,) = make_notifications(alice, 1, expired=True)
    response = alice_client.post(f"/inbox/{notification.pk}/delete/", {"place": "dropdown"}, headers=HTMX)
    assert_fragment(response, 404, GONE)


def test_without_htmx_the_404_is_a_whole_page(alice_client, alice, make_notifications):
    (notification,) = make_notifications(alice, 1)
    pk = notification.pk
    notification.delete()
    response = alice_client.post(f"/inbox/{pk}/read/", {"place": "all"})
    html = response.content.decode()
    assert response.status_code == 404
    assert "<header" in html and "<h1>Not found</h1>" in html and GONE in html
    assert "hx-swap-oob" not in html.split('id="main"')[1]


def test_an_unknown_address_says_nothing_is_here(alice_client):
    html = alice_client.get("/inbox/no-such-page/").content.decode()
    assert "There is nothing here." in html and "Resolver404" not in html
    assert_fragment(alice_client.get("/inbox/no-such-page/", headers=HTMX), 404, "There is nothing here.")


def test_an_htmx_403_is_a_short_message(client, alice):
    client.force_login(alice)
    response = client.post("/inbox/send/", {"message": "Hi", "all_users": "on"}, headers=HTMX)
    assert_fragment(response, 403, "Only staff can send notifications.")
    page = client.get("/inbox/send/")
    assert page.status_code == 403 and "<h1>Not allowed</h1>" in page.content.decode()


def test_an_htmx_400_is_a_short_message_that_keeps_suspicious_details_to_itself(client):
    response = client.get("/inbox/", headers={**HTMX, "Host": "evil.example"})
    assert_fragment(response, 400, "This request could not be handled.")
    assert "evil.example" not in response.content.decode()


@pytest.mark.parametrize(
    ("handler", "exception", "status", "message"),
    [
        (errors.bad_request, BadRequest("Unknown filter."), 400, "Unknown filter."),
        (errors.permission_denied, None, 403, "You are not allowed to do that."),
        (errors.page_not_found, None, 404, "There is nothing here."),
    ],
)
def test_each_handler_answers_htmx_with_a_fragment(rf: RequestFactory, handler, exception, status, message):
    request = rf.get("/inbox/", headers=HTMX)
    assert_fragment(handler(request, exception), status, message)


def test_an_htmx_500_is_a_short_message(rf: RequestFactory):
    response = errors.server_error(rf.get("/inbox/", headers=HTMX))
    assert_fragment(response, 500, "Something went wrong on the server.")


def test_a_plain_500_is_django_s_page(rf: RequestFactory):
    response = errors.server_error(rf.get("/inbox/"))
    assert response.status_code == 500 and b"hx-swap-oob" not in response.content
