"""A site with the core and the web UI only (no inbox.push, inbox.pwa, inbox.mail, inbox.realtime):
its URLs are the UI's alone, and its pages neither link to nor reverse a channel's URL."""

from __future__ import annotations

import sys

import pytest
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse

from inbox.api import notify
from inbox.models import Notification
from inbox.preferences import Preference
from inbox.urls import installed_urlpatterns

CHANNEL_APPS = ("inbox.push", "inbox.pwa", "inbox.mail", "inbox.realtime")
URLCONF = "tests.web.urls_core_only"


@pytest.fixture
def core_only(settings, leave_out):
    leave_out(*CHANNEL_APPS)
    settings.INBOX_SERVICE_WORKER = "inbox:sw"  # the default: no worker without inbox.pwa
    sys.modules.pop(URLCONF, None)  # made anew, now that the channels are left out
    settings.ROOT_URLCONF = URLCONF
    yield
    sys.modules.pop(URLCONF, None)


def url_names(patterns) -> set[str]:
    names = set()
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            names |= url_names(pattern.url_patterns)
        elif pattern.name:
            names.add(pattern.name)
    return names


def test_the_urls_are_those_of_the_installed_apps(leave_out):
    every = url_names(installed_urlpatterns())
    assert {"index", "badge", "push_subscribe", "mail_unsubscribe", "sw", "manifest", "realtime"} <= every
    leave_out("inbox.push", "inbox.realtime")
    some = url_names(installed_urlpatterns())
    assert {"index", "mail_unsubscribe", "sw"} <= some
    assert not some & {"push_subscribe", "push_check", "push_read", "realtime"}
    leave_out(*CHANNEL_APPS, "inbox.web")
    assert installed_urlpatterns() == []


def test_the_pages_of_a_site_without_channels_work_and_name_none(core_only, alice, alice_client):
    with pytest.raises(NoReverseMatch):
        reverse("inbox:push_subscribe")
    notify(alice, "Hello")
    dashboard = alice_client.get("/inbox/")
    html = dashboard.content.decode()
    assert dashboard.status_code == 200 and "Hello" in html
    assert "data-push-toggle" not in html  # no push switch in the bell
    assert 'rel="manifest"' not in html  # not installable
    assert '<meta name="inbox-service-worker" content="">' in html  # pwa.js registers no worker
    assert "hx-ws:connect" not in html  # no socket: the badge polls
    page = alice_client.get("/inbox/preferences/")
    html = page.content.decode()
    assert page.status_code == 200
    assert '<table class="preference-grid">' in html
    assert "Email digest</legend>" not in html and "Browsers receiving push" not in html


def test_the_grid_saves_without_the_digest_s_fields(core_only, alice, alice_client):
    response = alice_client.post("/inbox/preferences/", {"general:inbox": ""})
    assert response.status_code == 302
    assert Preference.objects.filter(user=alice, kind="general", channel="inbox", enabled=False).exists()
    assert not Notification.objects.exists()


def test_the_checks_of_a_site_without_channels_pass(core_only):
    call_command("check", fail_level="WARNING")
