from __future__ import annotations

import pytest
from django.urls import reverse

from inbox.api import notify

INDEX = reverse("inbox:index")


def test_anonymous_users_go_to_the_login_page(client):
    response = client.get(INDEX)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={INDEX}"


def test_full_page_lists_own_visible_notifications_newest_first(alice_client, alice, bob, make_notifications):
    make_notifications(alice, 3, text="Mine {i}")
    make_notifications(alice, 1, expired=True, text="Expired {i}")
    make_notifications(bob, 1, text="Bob's {i}")
    response = alice_client.get(INDEX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html and 'id="bell-button"' in html
    assert html.index("Mine 2") < html.index("Mine 1") < html.index("Mine 0")
    assert "Expired" not in html and "Bob&#x27;s" not in html and "Bob's" not in html
    assert ", 3 unread" in html
    assert response["Vary"].count("HX-Request") == 1


def test_an_htmx_request_gets_just_the_list(alice_client, alice, make_notifications):
    make_notifications(alice, 2)
    response = alice_client.get(INDEX, {"filter": "unread"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="inbox-list"')
    assert "<html" not in html and "Note 1" in html


def test_unread_filter(alice_client, alice, make_notifications):
    make_notifications(alice, 1, text="Unread one")
    make_notifications(alice, 1, read=True, text="Read one")
    assert "Read one" in alice_client.get(INDEX, {"filter": "all"}).content.decode()
    unread = alice_client.get(INDEX, {"filter": "unread"}).content.decode()
    assert "Unread one" in unread and "Read one" not in unread


def test_each_item_shows_level_age_and_link(alice_client, alice):
    notify(alice, "Build failed", url="/builds/7/", level="error")
    html = alice_client.get(INDEX).content.decode()
    assert "Build failed" in html and 'href="/builds/7/"' in html
    assert "Error" in html and "now" in html


def test_load_more_pages_with_a_keyset(settings, alice_client, alice, make_notifications):
    settings.INBOX_PAGE_SIZE = 10
    make_notifications(alice, 25)
    first = alice_client.get(INDEX).context
    assert len(first["items"]) == 10 and first["next_cursor"]
    response = alice_client.get(INDEX, {"after": first["next_cursor"]}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<section" not in html and html.count('class="item ') == 10
    assert "Note 14" in html and "Note 5" in html and "Note 15" not in html
    last = alice_client.get(INDEX, {"after": response.context["next_cursor"]}).context
    assert [n.message.text for n in last["items"]] == [f"Note {i}" for i in range(4, -1, -1)]
    assert last["next_cursor"] is None


@pytest.mark.parametrize("params", [{"filter": "spam"}, {"after": "nonsense"}, {"after": "1.x"}])
def test_bad_parameters_are_a_400_with_a_message(alice_client, params):
    response = alice_client.get(INDEX, params)
    assert response.status_code == 400
    assert response.content


@pytest.mark.parametrize("count", [1, 60])
def test_the_dashboard_runs_a_fixed_number_of_queries(
    settings, alice_client, alice, make_notifications, django_assert_num_queries, count
):
    settings.INBOX_PAGE_SIZE = 20
    make_notifications(alice, count)
    # session, user, the page of items (with their messages and the bell's badge count)
    with django_assert_num_queries(3):
        alice_client.get(INDEX)
    with django_assert_num_queries(3):  # the list alone has no bell
        alice_client.get(INDEX, {"filter": "unread"}, headers={"HX-Request": "true"})
    with django_assert_num_queries(4):  # an empty page: the bell counts for itself
        alice_client.get(INDEX, {"level": "error"})


def test_notification_text_and_links_are_escaped(alice_client, alice):
    notify(
        alice,
        '<script>alert("x")</script><img src=x onerror=alert(1)>',
        url='https://example.com/"onmouseover="x',
    )
    html = alice_client.get(INDEX).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html
    assert 'href="https://example.com/&quot;onmouseover=&quot;x"' in html


def test_pages_send_a_content_security_policy(alice_client):
    policy = alice_client.get(INDEX)["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
