from __future__ import annotations

from django.urls import reverse

BADGE = reverse("inbox:badge")
DROPDOWN = reverse("inbox:dropdown")


def test_badge_partial(alice_client, alice, make_notifications, django_assert_num_queries):
    make_notifications(alice, 3)
    make_notifications(alice, 2, expired=True)
    with django_assert_num_queries(3):  # session, user, one bounded count
        response = alice_client.get(BADGE, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.startswith('<span id="inbox-badge"')
    assert ">3</span>" in html and ", 3 unread" in html
    assert 'hx-trigger="every 15s,' in html and "hx-swap-oob" not in html


def test_badge_poll_interval_is_a_setting(settings, alice_client):
    settings.INBOX_BADGE_POLL_SECONDS = 4
    assert 'hx-trigger="every 4s,' in alice_client.get(BADGE).content.decode()


def test_badge_with_nothing_unread_shows_no_number(alice_client):
    html = alice_client.get(BADGE).content.decode()
    assert ", 0 unread" in html and 'class="badge"' not in html


def test_badge_caps_at_99_plus(alice_client, alice, make_notifications):
    make_notifications(alice, 120)
    html = alice_client.get(BADGE).content.decode()
    assert ">99+</span>" in html and ", 99+ unread" in html


def test_an_expired_session_polling_is_sent_to_the_login_page(client):
    response = client.get(BADGE, headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/inbox/"})
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/?next=/inbox/"


def test_dropdown_lists_the_latest_eight_unread(
    alice_client, alice, make_notifications, django_assert_num_queries
):
    make_notifications(alice, 10)
    make_notifications(alice, 1, read=True, text="Already read")
    with django_assert_num_queries(3):  # session, user, the list with its messages
        response = alice_client.get(DROPDOWN, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.count('class="dropdown-item') == 8
    assert "Note 9" in html and "Note 2" in html and "Note 1" not in html
    assert "Already read" not in html
    assert "Mark all as read" in html and 'href="/inbox/"' in html


def test_the_dropdown_has_the_push_switch_only_with_inbox_push(alice_client, leave_out):
    """The switch sits at the dropdown's foot, whether the bell, the dropdown view or a socket's
    frame renders it."""
    from inbox.realtime import frames

    assert "data-push-toggle" in alice_client.get(DROPDOWN).content.decode()
    assert "data-push-toggle" in frames.dropdown([], "token")
    leave_out("inbox.push")
    assert "data-push-toggle" not in alice_client.get(DROPDOWN).content.decode()
    assert "data-push-toggle" not in frames.dropdown([], "token")


def test_dropdown_when_all_is_read(alice_client):
    html = alice_client.get(DROPDOWN).content.decode()
    assert "all caught up" in html and "Mark all as read" not in html


def test_every_page_has_the_bell_for_a_logged_in_user(alice_client, alice, make_notifications):
    make_notifications(alice, 2)
    html = alice_client.get(reverse("inbox:index")).content.decode()
    assert 'aria-controls="bell-dropdown"' in html and ", 2 unread" in html


def test_anonymous_pages_have_no_bell(client, db):  # the login page looks for demo users
    html = client.get(reverse("login")).content.decode()
    assert "bell-button" not in html
