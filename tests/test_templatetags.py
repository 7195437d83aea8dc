from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from inbox.api import notify

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
