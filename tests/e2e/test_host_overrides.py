"""A host overrides the app's templates the Django way (docs/templates.md): its own copy of
inbox/bell.html (the bell and the dropdown's item) and of inbox/index.html (the dashboard's item),
in a template directory that comes first. The override shows in the header, in the dropdown, on the
dashboard, and in what a live update brings (rendered by the ASGI server, another process, with
the same settings: tests/e2e/host_settings.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

import inbox
from inbox.api import notify
from tests.e2e import host_settings

from .asgi_server import AsgiServer
from .conftest import dropdown_of, log_in
from .realtime_helpers import tab

APP_TEMPLATES = Path(inbox.__file__).parent / "web" / "templates" / "inbox"

# What the host changes in its copies: (file, the app's text, the host's text).
EDITS = [
    (
        "bell.html",
        '<div class="inbox-bell" data-bell>',
        '<div class="inbox-bell" data-bell><span class="host-bell-note">Host bell</span>',
    ),
    (
        "bell.html",
        '<span class="level-dot" aria-hidden="true"></span>',
        '<span class="level-dot" aria-hidden="true"></span><b class="host-item">Host dropdown item</b>',
    ),
    (
        "index.html",
        '<p class="item-text">',
        '<p class="host-item">Host dashboard item</p><p class="item-text">',
    ),
]


@pytest.fixture(scope="module")
def overrides(tmp_path_factory) -> Path:
    """A host's template directory with its edited copies of the app's templates."""
    root = tmp_path_factory.mktemp("overrides")
    (root / "inbox").mkdir()
    sources = {name: (APP_TEMPLATES / name).read_text() for name, _, _ in EDITS}
    for name, old, new in EDITS:
        assert sources[name].count(old) == 1, f"{old!r} is not once in inbox/{name}: update EDITS"
        sources[name] = sources[name].replace(old, new)
    for name, text in sources.items():
        (root / "inbox" / name).write_text(text)
    return root


@pytest.fixture
def overridden(settings, overrides):
    """The live server renders the host's templates, its overrides first."""
    templates = [dict(settings.TEMPLATES[0])]
    templates[0]["DIRS"] = host_settings.template_dirs(templates[0]["DIRS"], str(overrides))
    settings.TEMPLATES = templates
    settings.STATICFILES_DIRS = [*settings.STATICFILES_DIRS, host_settings.HOST / "static"]


@pytest.fixture(scope="module")
def host_asgi(django_db_setup, overrides, tmp_path_factory):
    """The ASGI server (HTTP and sockets) with the host's settings and overrides."""
    server = AsgiServer(
        tmp_path_factory.mktemp("host-asgi") / "server.log",
        DJANGO_SETTINGS_MODULE="tests.e2e.host_settings",
        HOST_OVERRIDES=str(overrides),
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def browser_context_args(browser_context_args, request):
    """A test that uses the host's ASGI server gets contexts whose relative URLs go to it."""
    if "host_asgi" in request.fixturenames:
        return {**browser_context_args, "base_url": request.getfixturevalue("host_asgi").url}
    return browser_context_args


def bell_of(page):
    return page.get_by_role("button", name=re.compile("^Notifications"))


def test_the_overridden_bell_and_items_show_in_the_header_dropdown_and_dashboard(
    overridden, new_context, alice, make_notifications
):
    make_notifications(alice, 2, text="Overridden note {i}")
    page = new_context().new_page()
    log_in(page, "alice", "pw-alice")
    expect(page.locator(".host-header").get_by_text("Host bell")).to_be_visible()
    items = page.get_by_role("list", name=re.compile("notifications$")).get_by_role("listitem")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("Host dashboard item")
    bell_of(page).click()
    dropdown = dropdown_of(bell_of(page))
    expect(dropdown.get_by_role("listitem").first).to_contain_text("Host dropdown item")
    expect(dropdown.get_by_role("listitem")).to_have_count(2)


def test_a_live_update_brings_the_overridden_items(host_asgi, new_context, live_server, alice):
    context = new_context()
    dashboard = tab(context, login=("alice", "pw-alice"))
    expect(dashboard.get_by_text("Host bell")).to_be_visible()  # the server's own render
    with_dropdown = tab(context)
    bell_of(with_dropdown).click()
    dropdown = dropdown_of(bell_of(with_dropdown))
    expect(dropdown.get_by_text("You're all caught up.")).to_be_visible()

    notify([alice], "Live from the host's templates")
    item = dashboard.get_by_role("list", name=re.compile("notifications$")).get_by_role("listitem").first
    expect(item).to_contain_text("Live from the host's templates")
    expect(item).to_contain_text("Host dashboard item")
    live = dropdown.get_by_role("listitem").first
    expect(live).to_contain_text("Live from the host's templates")
    expect(live).to_contain_text("Host dropdown item")
