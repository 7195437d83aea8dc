"""Every URL pattern of the site, with every method, as four people, with hostile input: no answer
is a 5xx. Bad input is a 4xx (or a page that says what is wrong), never a server error.

The patterns come from the site's URL configuration (walked, so a new view is fuzzed the day it
is added); each placeholder is filled with a valid value, another user's, and hostile ones (huge,
negative, a NUL, non-ASCII digits). Each request runs with DEBUG off, through a client that
returns the 500 page instead of raising, as a browser would get it. Runs on SQLite and on
PostgreSQL (scripts/test.sh runs both), where a NUL byte or a huge number fails differently."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from itertools import cycle
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import URLPattern, URLResolver, get_resolver

from inbox.mail.tokens import read_token as mail_read_token
from inbox.mail.tokens import unsubscribe_token

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
PLACEHOLDER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^()]*)\)")

NUL = "\x00"
CSRF_SECRET = "fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz"  # 32 characters: a CSRF secret as the cookie holds it
HUGE_NUMBER = "9" * 400
# Path values, already %-encoded: they go into the URL as they are.
HOSTILE_PATH_VALUES = {
    "huge": "9" * 40,
    "long": "a" * 3000,
    "negative": "-1",
    "nul": "%00",
    "arabic digit": "%D9%A3",  # ٣, which \d and int() take
    "non-ascii": "%E2%80%AEx%C3%A9",
}
# What a query string may say to the pages that read one (filters, paging, the admin's lists).
HOSTILE_QUERY = (
    "?filter=%00&after=99999999999999999999999999.9&before=-1&cursor=%D9%A3&page=-1&p=9999999999"
    "&q=%00&o=99.-99&e=1&next=//evil.example/&_changelist_filters=%00&id__in=%00&all=9e999"
)
DEEP_JSON = "[" * 50_000 + "]" * 50_000
SMALL_DEEP_JSON = "[" * 2_000 + "]" * 2_000  # under the 4 KB the push endpoints take, too deep for json
FIELDS = [
    "text", "message", "url", "level", "kind", "expires", "expires_at", "expires_in", "recipients",
    "users", "user", "groups", "group", "all_users", "audience", "filter", "after", "before", "cursor",
    "page", "q", "next", "token", "endpoint", "subscription", "old_endpoint", "old_auth", "browser",
    "keys", "frequency", "channel", "enabled", "username", "password", "password1", "password2",
    "old_password", "new_password1", "new_password2", "email", "id", "pk", "ids", "all", "action",
    "_selected_action", "select_across", "index", "name", "permissions", "recipient", "read_at",
    "created", "date_joined", "last_login", "is_staff", "is_superuser", "List-Unsubscribe",
]  # fmt: skip


def form(value_for) -> dict:
    return {name: [value_for(name), value_for(name)] for name in FIELDS}


@dataclass(frozen=True)
class Body:
    name: str
    data: object = None
    content_type: str | None = None


BODIES = [
    Body("empty"),
    Body("form with NUL bytes", form(lambda name: f"x{NUL}y"), "application/x-www-form-urlencoded"),
    Body(
        "form with huge numbers and far dates",
        {
            **form(lambda name: HUGE_NUMBER),
            "expires": "9999-12-31T23:59:59",
            "expires_at": "0001-01-01T00:00:00+14:00",
            "date_joined_0": "9999-12-31",
            "date_joined_1": "99:99",
            "frequency": "-9" * 50,
        },
        "application/x-www-form-urlencoded",
    ),
    Body(
        "form in an unknown charset",
        form(lambda name: "é"),
        "application/x-www-form-urlencoded; charset=nope",
    ),
    Body("malformed JSON", '{"token": "x", ', "application/json"),
    Body("deeply nested JSON", DEEP_JSON, "application/json"),
    Body(
        "JSON of the wrong shape",
        json.dumps({name: [[NUL], {"": 1e308}, -(2**70)] for name in FIELDS}),
        "application/json",
    ),
    Body("deeply nested small JSON", SMALL_DEEP_JSON, "application/json"),
    Body(
        "multipart",  # small: under the 4 KB the push endpoints take, so they read it
        {
            "subscription": f"{NUL}{HUGE_NUMBER[:40]}",
            "browser": "x" * 200,
            "token": NUL,
            "file": SimpleUploadedFile("a\x00.json", b'{"endpoint": "\x00"}', "application/json"),
        },
        None,  # multipart/form-data
    ),
]
# No NUL in a header: HTTP servers refuse it before Django sees the request.
HEADERS = [
    {},
    {"HX-Request": "true", "HX-Target": "x\x7f", "HX-Current-URL": "//evil.example", "X-Inbox-Tab": "é" * 3},
    {"Accept": "application/json", "Accept-Language": "xx-\x7f;q=9e999", "Range": "bytes=-1-9"},
]


def routes(patterns=None, prefix=""):
    """(route, name, is_regex) of every URL pattern, the includes' prefixes joined."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.name


@dataclass
class World:
    alice: User
    bob: User
    staff: User

    def valid_values(self, route_name: str | None, placeholder: str) -> dict[str, str]:
        """For a placeholder: the value that finds something of Alice's, and one of Bob's."""
        own, other = self.alice_note, self.bob_note
        if route_name == "mail_unsubscribe":
            return {
                "valid": unsubscribe_token(self.alice.pk, "mention", "email"),
                "other user's": unsubscribe_token(self.bob.pk, "general", "digest"),
            }
        if route_name == "mail_read":
            return {
                "valid": mail_read_token(self.alice.pk, own.pk),
                "other user's": mail_read_token(self.bob.pk, other.pk),
            }
        if placeholder in ("object_id", "id") and route_name and route_name.startswith("auth_user"):
            # Not staff's own: the admin deletes on any POST to its delete page, and staff is the
            # one logged in.
            return {"valid": str(self.alice.pk), "other user's": str(self.bob.pk)}
        if placeholder in ("object_id", "id", "pk"):
            return {"valid": str(own.pk), "other user's": str(other.pk)}
        if placeholder == "content_type_id":
            return {"valid": "1", "other user's": "2"}
        return {"valid": "x"}


def fill(route: str, name: str | None, world: World) -> list[tuple[str, str]]:
    """(label, path) for the route with its placeholders filled: each one in turn takes each
    value while the others keep a valid one."""
    regex_groups = list(REGEX_GROUP.finditer(route))
    placeholders = [m["name"] for m in PLACEHOLDER.finditer(route)] + [m["name"] for m in regex_groups]

    def build(values: dict[str, str]) -> str:
        path = PLACEHOLDER.sub(lambda m: values[m["name"]], route)
        path = REGEX_GROUP.sub(lambda m: values[m["name"]], path)
        return "/" + path.replace("^", "").replace("$", "")

    if not placeholders:
        return [("", build({}))]
    base = {}
    for placeholder in placeholders:
        group = next((m for m in regex_groups if m["name"] == placeholder), None)
        choices = group["body"].split("|") if group and "|" in group["body"] else None
        base[placeholder] = choices[0] if choices else world.valid_values(name, placeholder)["valid"]
    paths = []
    for placeholder in placeholders:
        values = {**world.valid_values(name, placeholder), **HOSTILE_PATH_VALUES}
        for label, value in values.items():
            paths.append((f"{placeholder}={label}", build({**base, placeholder: value})))
    return list(dict.fromkeys(paths))


def request(client: Client, method: str, path: str, body: Body, headers: dict):
    """Send it as it is: the test client's own encoding would refuse an unknown charset."""
    if method in ("GET", "HEAD", "OPTIONS"):
        return client.generic(method, path + ("" if body.data is None else HOSTILE_QUERY), headers=headers)
    if body.data is None:
        return client.generic(method, path, headers=headers)
    if body.content_type is None:
        data, content_type = encode_multipart(BOUNDARY, body.data), MULTIPART_CONTENT
    elif isinstance(body.data, dict):
        data, content_type = urlencode(body.data, doseq=True).encode(), body.content_type
    else:
        data, content_type = body.data.encode(), body.content_type
    return client.generic(method, path, data, content_type=content_type, headers=headers)


@pytest.fixture
def quiet_4xx():
    """Thousands of 4xx are the point here: their log lines (warnings) would only cost time.
    Server errors are still logged."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


@pytest.fixture
def world(db, make_notifications, settings, quiet_4xx):
    settings.DEBUG = False
    settings.INBOX_ANONYMOUS_RATE = "100000/m"  # the rate limit answers 429 before any view else
    settings.AXES_ENABLED = False  # so does the login lockout, after ten failed logins
    alice = User.objects.create_user("alice", password="pw-alice")
    bob = User.objects.create_user("bob", password="pw-bob")
    staff = User.objects.create_superuser("sam", "sam@example.com", "pw-sam")
    Group.objects.create(name="team").user_set.add(alice, bob)
    made = World(alice, bob, staff)
    made.alice_note = make_notifications(alice, 2)[0]
    made.bob_note = make_notifications(bob, 2)[0]
    return made


def client_for(who: str, world: World) -> Client:
    """A client that sends what a browser's page sends: CSRF is checked (the test client skips
    it by default) and passed with a valid token, in the cookie and the header, as htmx does.
    The check reads a POST's form (request.POST) before the view does, which is what a view
    that reads request.body afterwards meets in production."""
    client = Client(
        enforce_csrf_checks=True, raise_request_exception=False, headers={"X-CSRFToken": CSRF_SECRET}
    )
    client.cookies[settings.CSRF_COOKIE_NAME] = CSRF_SECRET
    if who == "staff" and not User.objects.filter(pk=world.staff.pk).exists():
        # The admin deletes whoever a POST to a delete page names ("٣" is pk 3 to int()).
        world.staff = User.objects.create_superuser(f"sam{User.objects.count()}", "sam@example.com", "pw")
    if who != "anonymous":
        client.force_login(getattr(world, who))
    return client


def wanted(who: str, route: str, label: str) -> bool:
    """Whom a path is sent as: the admin sends everyone but staff to its login page before it
    reads the path, so for them one valid value of each placeholder is enough."""
    return who == "staff" or not route.startswith("admin/") or not label or label.endswith("=valid")


def plan(label: str):
    """(method, body, headers) for one path. The path as it should be: every method (POST with
    every body); another user's value: every method; a hostile value: GET, POST and one other
    method in turn (the views read the path the same way for the rest). Bodies and header sets
    rotate, so across the paths each meets each method."""
    if not label or label.endswith("=valid"):
        for method in METHODS:
            for body in BODIES if method == "POST" else [next(ROTATING_BODIES)]:
                yield method, body, next(ROTATING_HEADERS)
        return
    methods = METHODS if label.endswith("=other user's") else ["GET", "POST", next(OTHER_METHODS)]
    for method in methods:
        yield method, next(ROTATING_BODIES), next(ROTATING_HEADERS)


ROTATING_BODIES, ROTATING_HEADERS = cycle(BODIES), cycle(HEADERS)
OTHER_METHODS = cycle([method for method in METHODS if method not in ("GET", "POST")])


@pytest.mark.parametrize("who", ["anonymous", "alice", "bob", "staff"])
def test_no_url_answers_a_server_error(world, who):
    failures = []
    for route, name in routes():
        for label, path in fill(route, name, world):
            if not wanted(who, route, label):
                continue
            client = client_for(who, world)  # again for each path: a logout or password change ends it
            for method, body, headers in plan(label):
                response = request(client, method, path, body, headers)
                if response.status_code >= 500:
                    error = response.exc_info[1] if getattr(response, "exc_info", None) else None
                    failures.append(
                        f"{method} {path[:120]} as {who}, body: {body.name}, headers: {sorted(headers)}"
                        f" -> {response.status_code} {error!r:.200}"
                    )
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures)
