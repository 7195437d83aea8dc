"""Pages served from the caches (inbox.web.fragments, inbox.web.items) against fresh renders of
their templates: the same HTML, whatever the user, filters, kinds, time zone, language and URL
prefix, and whatever the caches held before."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import RequestContext, Template
from django.template.loader import get_template
from django.test import RequestFactory
from django.urls import resolve, set_script_prefix
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

from inbox import kinds
from inbox.models import Message, Notification
from inbox.web import fragments, items
from inbox.web.views import inbox_page

TOKEN = "Tok3n" * 12 + "abcd"  # the one CSRF token of every page here, so pages compare byte for byte
# Ages 30 s clear of the unit naturaltime shows: an item's age reads the same for the whole test.
AGES = [timedelta(minutes=5, seconds=30), timedelta(hours=3, minutes=30), timedelta(days=20, hours=12)]
ROWS = [  # kind, level, read
    ("general", "info", False),
    ("mention", "warning", False),
    ("mention", "info", True),
    ("build.finished", "error", False),
    ("announcement", "success", True),
]
LISTS = [
    "/inbox/",
    "/inbox/?filter=unread",
    "/inbox/?kind=mention",
    "/inbox/?filter=unread&kind=mention&level=warning",
    "/inbox/?level=error",
    "/inbox/?kind=announcement&level=info",  # an empty list
]


@pytest.fixture(autouse=True)
def empty_caches(monkeypatch):
    monkeypatch.setattr("django.template.context_processors.get_token", lambda request: TOKEN)
    fragments.clear()
    items.cache_clear()
    yield
    fragments.clear()
    items.cache_clear()
    kinds.unregister("deploy")


@pytest.fixture
def inbox(alice, staff):
    for user in (alice, staff):
        for i, ((kind, level, read), age) in enumerate(zip(ROWS * 3, AGES * 5, strict=True)):
            created = timezone.now() - age - timedelta(seconds=i)
            message = Message.objects.create(
                text=f"{kind} <{i}>", url=f"/x/{i}/" if i % 2 else "", kind=kind, level=level, created=created
            )
            Notification.objects.create(
                recipient=user, message=message, created=created, read_at=created if read else None
            )


def fresh_render(name, key, make_context, csrf_token=None):
    return mark_safe(get_template(name).render({**make_context(), "csrf_token": csrf_token}))


def fresh(client, monkeypatch, url, **headers) -> str:
    """The page with no cache: every fragment and every item rendered through its template."""
    with monkeypatch.context() as patch:
        patch.setattr(fragments, "partial", fresh_render)
        patch.setattr(items, "_message_template", lambda *args, **kwargs: None)
        return client.get(url, headers=headers).content.decode()


def served(client, url, **headers) -> str:
    client.get(url, headers=headers)  # fills the caches, if this page is new to them
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    return response.content.decode()


def assert_pages_are_fresh(client, monkeypatch, urls, **headers):
    for url in urls:
        assert served(client, url, **headers) == fresh(client, monkeypatch, url, **headers), url


@pytest.mark.parametrize("who", ["alice", "staff"])
def test_served_pages_are_fresh_renders(client, monkeypatch, inbox, request, who):
    client.force_login(request.getfixturevalue(who))
    pages = [*LISTS, "/inbox/dropdown/", "/inbox/preferences/"]
    assert_pages_are_fresh(client, monkeypatch, pages)
    assert_pages_are_fresh(client, monkeypatch, LISTS, **{"HX-Request": "true"})
    kinds.register("deploy", "Deploys")  # a new choice in the list's kind filter
    assert 'value="deploy"' in served(client, "/inbox/")
    assert_pages_are_fresh(client, monkeypatch, LISTS[:3])
    with timezone.override("Asia/Tokyo"), translation.override("de"):
        assert "vor 5 Minuten" in served(client, "/inbox/")
        assert_pages_are_fresh(client, monkeypatch, LISTS[:3])
    set_script_prefix("/prefixed/")
    try:
        assert 'action="/prefixed/inbox/read-all/"' in served(client, "/inbox/")
        assert_pages_are_fresh(client, monkeypatch, LISTS[:3])
    finally:
        set_script_prefix("/")
    assert_pages_are_fresh(client, monkeypatch, LISTS[:3])  # back as it was


def test_a_changed_setting_changes_the_served_pages(settings, alice_client, monkeypatch, inbox):
    served(alice_client, "/inbox/")
    settings.STATIC_URL = "/assets/"
    assert '<link rel="stylesheet" href="/assets/inbox/inbox.css">' in served(alice_client, "/inbox/")
    assert_pages_are_fresh(alice_client, monkeypatch, LISTS[:2])


def fragment_tags(template_name: str) -> list[str]:
    """Every {% inbox_fragment %} in a template, as written there."""
    source = get_template(template_name).template.source
    return re.findall(r"{% inbox_fragment .*?%}", source)


def full_context(url, user, extra=None) -> RequestContext:
    request = RequestFactory().get(url)
    request.user, request.resolver_match = user, resolve(url.partition("?")[0])
    return RequestContext(request, extra or {})


def assert_fragments_are_includes(template_name, contexts):
    """Each fragment of `template_name`, given only its values, is what the partial shows when
    it sees the whole page's context besides (an {% include ... with %} of the same values):
    nothing it shows is missing from its values."""
    tags = fragment_tags(template_name)
    assert tags
    for tag in tags:
        name, values = re.fullmatch(r'{% inbox_fragment "([^"]+)"(.*?) %}', tag).groups()
        include = f'{{% include "{name}" with{values} %}}' if values else f'{{% include "{name}" %}}'
        cached, whole = Template("{% load inbox %}" + tag), Template(include)
        for context in contexts:
            expected = whole.render(context)
            assert cached.render(context) == expected  # rendered and cached now
            assert cached.render(context) == expected, tag  # from the cache


def test_the_dashboard_list_head_is_given_all_it_shows(alice, inbox):
    kinds.register("deploy", "Deploys")
    contexts = [
        full_context(f"/inbox/?filter={show}", alice, {"filter": show, **inbox_page(alice, show, **filters)})
        for show in ("all", "unread")
        for filters in ({}, {"kind": "mention"}, {"level": "error"}, {"kind": "deploy", "level": "info"})
    ]
    assert_fragments_are_includes("inbox/index.html", contexts)


def test_the_site_header_is_given_all_it_shows(alice, staff):
    urls = ["/inbox/", "/inbox/send/", "/inbox/preferences/", "/accounts/login/"]
    contexts = [full_context(url, user) for url in urls for user in (alice, staff, AnonymousUser())]
    assert_fragments_are_includes("base.html", contexts)


def nav_links(html: str) -> list[str]:
    """The header's links, the current page's marked with a star."""
    nav = html.partition('<nav class="site-nav"')[2].partition("</nav>")[0]
    return [
        f"{label}{'*' if current else ''}"
        for current, label in re.findall(r'<a href="/[^"]*"( aria-current="page")?>(\w+)</a>', nav)
    ]


@pytest.mark.parametrize("repeat", [1, 2])  # the second time from the cache
def test_the_header_shows_each_user_their_links(client, alice, staff, repeat):
    for user, url, expected in [
        (alice, "/inbox/", ["Dashboard*", "Preferences"]),
        (staff, "/inbox/", ["Dashboard*", "Send", "Admin", "Preferences"]),
        (staff, "/inbox/send/", ["Dashboard", "Send*", "Admin", "Preferences"]),
        (alice, "/inbox/preferences/", ["Dashboard", "Preferences*"]),
        (None, "/accounts/login/", []),
    ]:
        client.logout()
        if user:
            client.force_login(user)
        for _ in range(repeat):
            html = client.get(url).content.decode()
        assert nav_links(html) == expected, (user, url)
        assert ("Log out" in html) == bool(user) and ('href="/accounts/login/">Log in' in html) != bool(user)
