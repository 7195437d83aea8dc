from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from inbox.api import notify
from inbox.models import Message, Notification

PAGE = Template("{% load inbox %}<head>{% inbox_head %}</head><header>{% inbox_bell %}</header>")


def render(user) -> str:
    request = RequestFactory().get("/")
    request.user = user
    return PAGE.render(Context({"request": request, "csrf_token": "token"}))


def test_the_head_brings_the_apps_styles_scripts_manifest_and_worker(db):
    html = render(AnonymousUser())
    assert f'<link rel="manifest" href="{reverse("inbox:manifest")}">' in html
    assert '<script src="/static/inbox/vendor/htmx-4.0.1.min.js" defer></script>' in html
    assert '<link rel="stylesheet" href="/static/inbox/inbox.css">' in html
    assert f'<meta name="inbox-service-worker" content="{reverse("service_worker")}">' in html
    assert '<meta name="csrf-token" content="token">' in html


def test_the_bell_is_for_logged_in_users_only(alice, django_assert_num_queries):
    assert 'id="bell-button"' not in render(AnonymousUser())
    notify(alice, "Hello")
    with django_assert_num_queries(1):  # the badge's one bounded count
        html = render(alice)
    assert 'id="bell-button"' in html and "Notifications, 1 unread" in html


def test_inbox_nbsp_escapes_and_writes_no_break_spaces_as_entities():
    html = Template("{% load inbox %}{{ text|inbox_nbsp }}").render(Context({"text": "3\xa0days <b>&"}))
    assert html == "3&nbsp;days &lt;b&gt;&amp;"


def test_pages_of_ascii_text_are_ascii(alice, alice_client):
    """Items' ages ("2 days, 3 hours ago") have no-break spaces; the page writes them as &nbsp;,
    so a page whose text is ASCII is encoded by copying (inbox_nbsp)."""
    for age in (timedelta(minutes=5), timedelta(hours=3, minutes=2), timedelta(days=2, hours=3)):
        created = timezone.now() - age
        message = Message.objects.create(text="Deploy done", created=created)
        Notification.objects.create(recipient=alice, message=message, created=created)
    for url in ("/inbox/", "/inbox/?filter=unread", "/inbox/dropdown/", "/inbox/badge/"):
        body = alice_client.get(url).content
        assert body.isascii(), (url, sorted({c for c in body.decode() if not c.isascii()}))
    assert b"2&nbsp;days" in alice_client.get("/inbox/").content


@pytest.mark.parametrize(
    ("url", "label"),
    [
        ("https://ci.example.com/builds/1234?utm_source=inbox&x=1#log", "ci.example.com/builds/1234"),
        ("https://example.com/", "example.com"),
        ("/inbox/preferences/", "/inbox/preferences"),
        (
            "https://ci.example.com/org/a-very-long-repository-name/actions/runs/9876543210/job/1",
            "ci.example.com/org/a-very-long-…9876543210/job/1",
        ),
        ("http://127.0.0.1:8000/inbox/", "127.0.0.1:8000/inbox"),
        ("https://example.com:443/a", "example.com/a"),
    ],
)
def test_a_link_shows_a_readable_label(url, label):
    from inbox.web.templatetags.inbox import LINK_LABEL_MAX, inbox_link_label

    assert inbox_link_label(url) == label
    assert len(inbox_link_label(url)) <= LINK_LABEL_MAX


def test_a_shortened_label_always_shows_the_whole_host():
    """Cutting in the middle of the whole label could hide the site a link goes to."""
    from inbox.web.templatetags.inbox import inbox_link_label

    url = "https://bank.example.com.secure-login.attacker.example/a/b/c/d/e/f/g/h/i/j"
    assert inbox_link_label(url).startswith("bank.example.com.secure-login.attacker.example/")
    assert inbox_link_label("https://x.example/" + "a" * 200).startswith("x.example/a")
    assert inbox_link_label("https://host.example:99999/p") == "host.example/p"


def test_the_dashboard_item_shows_the_label_and_links_to_the_whole_url(alice_client, alice):

    notify(alice, "Build failed", url="https://ci.example.com/builds/1234?utm_source=inbox")
    html = alice_client.get("/inbox/").content.decode()
    assert (
        '<a class="item-link" href="https://ci.example.com/builds/1234?utm_source=inbox">ci.example.com/builds/1234</a>'
    ) in html
