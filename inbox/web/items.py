"""One notification's HTML, rendered once and reused: the dashboard's and the dropdown's items.

An item's HTML depends on its message (text, link, level), its read state, where it is shown
(the dashboard's "all" or "unread" list, or the dropdown), its age as the page says it ("3
minutes ago"), and on two values that differ per recipient or per request: the notification's
id and the CSRF token. So each item is rendered from its template partial
(``inbox/index.html#item``, ``inbox/bell.html#dropdown_item``) once per process with placeholders
for those two, kept in a bounded LRU cache, and filled in by string substitution. A message sent
to many users is rendered once and serves every recipient (see ``message_item``). Why: a page
shows 20 items, and the template engine is most of a page's cost (docs/performance.md).

The contract for whoever edits or overrides those partials: an item is rendered **without a
request** (no context processors, no ``request``, no ``user``), from the context documented in
docs/templates.md, and what it shows must follow from the cache key below. ``INBOX_ITEM_CACHE =
False`` turns the cache off: every item is then rendered through its partial each time.

On the dashboard an item's forms also carry the list's back URL (the filter, kind and level it
was shown under), so that is part of the key too; ``kind`` and ``level`` name it.

The age is keyed by the unit ``naturaltime`` shows (seconds under a minute, minutes under an hour,
hours under a week, days beyond), counted from the item's own time, so the cached "3 minutes
ago" changes exactly when a fresh render's would.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from django.core.signals import setting_changed
from django.template.loader import get_template
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe

from inbox import kinds
from inbox.conf import inbox_setting

__all__ = [
    "PLACES",
    "ItemTemplate",
    "back_url",
    "cache_clear",
    "cache_info",
    "item_html",
    "items_html",
    "message_item",
    "query",
]

# Where an item is shown -> the partial that renders it.
TEMPLATES = {
    "all": "inbox/index.html#item",
    "unread": "inbox/index.html#item",
    "dropdown": "inbox/bell.html#dropdown_item",
}
PLACES = tuple(TEMPLATES)
CACHE_SIZE = 1024  # rendered items per process (about 2 KB each)

# Per-process placeholders. The id must be digits: {% url %} only reverses an int for <int:pk>.
# 24 random digits never occur in a message by chance, and a message that contains one anyway
# is rendered fresh every time instead of cached (see _render).
ID_PLACEHOLDER = str(10**23 + secrets.randbelow(9 * 10**23))
TOKEN_PLACEHOLDER = "csrf" + secrets.token_hex(12)
PLACEHOLDERS = (ID_PLACEHOLDER, TOKEN_PLACEHOLDER)
_TOKEN_INPUT = f'<input type="hidden" name="csrfmiddlewaretoken" value="{TOKEN_PLACEHOLDER}">'


@dataclass(frozen=True, slots=True)
class ItemTemplate:
    """An item rendered for any recipient: ``fill()`` puts in one recipient's id and token."""

    # The HTML split around the token's input, each piece split around the notification id.
    parts: tuple[tuple[str, ...], ...]

    def fill(self, notification_id: int, csrf_token: str | None) -> SafeString:
        """The item's HTML for notification `notification_id`, with the request's CSRF token
        (None or "NOTPROVIDED" leaves the token's input out, as {% csrf_token %} does)."""
        return mark_safe(self.filled(str(int(notification_id)), csrf_input(csrf_token)))

    def filled(self, digits: str, token_input: str) -> str:
        """fill() given the id's digits and the token's input (csrf_input()) made already."""
        return token_input.join([digits.join(piece) for piece in self.parts])


def csrf_input(csrf_token) -> str:
    """What {% csrf_token %} renders for this token (Django's tokens are ASCII letters and
    digits, which escaping leaves as they are: only another string is escaped)."""
    if not csrf_token or csrf_token == "NOTPROVIDED":
        return ""
    if not (csrf_token.isascii() and csrf_token.isalnum()):
        csrf_token = escape(csrf_token)
    return f'<input type="hidden" name="csrfmiddlewaretoken" value="{csrf_token}">'


def item_html(
    notification, place: str, csrf_token: str | None, *, kind: str = "", level: str = ""
) -> SafeString:
    """The HTML of `notification` (its message loaded, or a list's row from inbox.web.rows) as
    `place` shows it: "all" or "unread" (a dashboard list, filtered by `kind` and `level` if not
    ""), or "dropdown"; the same as rendering its partial, from the cache (INBOX_ITEM_CACHE)."""
    return items_html([notification], place, csrf_token, kind=kind, level=level)


def items_html(
    notifications,
    place: str,
    csrf_token: str | None,
    *,
    kind: str = "",
    level: str = "",
) -> SafeString:
    """The HTML of several items in a row (a page of the dashboard, the dropdown's list): what
    rendering each one's partial gives, one after the other, with the per-request work (the
    token, the time, the active locale, the back URL) done once."""
    check_place(place)
    token, now, env = csrf_input(csrf_token), timezone.now(), environment()
    back = _back(place, kind, level)
    out = []
    for n in notifications:
        template = _message_template(n.message, place, n.read_at is not None, n.created, back, env, now)
        if template is None:  # the rare message that cannot be cached: render it as it is
            out.append(render_item(n, place, csrf_token, kind=kind, level=level))
        else:
            out.append(template.filled(str(int(n.pk)), token))
    return mark_safe("".join(out))


def message_item(
    message,
    place: str,
    *,
    created: datetime | None = None,
    read: bool = False,
    kind: str = "",
    level: str = "",
) -> ItemTemplate | None:
    """The item of `message` for any recipient's row created at `created` (default: the
    message's own time, as notify() gives every recipient's row), read or unread, as `place`
    shows it (a dashboard list filtered by `kind` and `level`, if not "");
    ``.fill(notification_id, csrf_token)`` gives one recipient's HTML.

    None for the rare message whose text or link contains a placeholder, and for every message
    when INBOX_ITEM_CACHE is off: then render that item with ``item_html`` (it falls back to a
    plain render by itself).
    """
    check_place(place)
    created = message.created if created is None else created
    return _message_template(message, place, read, created, _back(place, kind, level), environment())


def _message_template(message, place, read, created, back, env, now=None) -> ItemTemplate | None:
    """The cached item template for `message` as one row (read or not, created then) shows it;
    None when INBOX_ITEM_CACHE is off (the callers then render the item through its partial)."""
    if not inbox_setting("ITEM_CACHE"):
        return None
    return _render(
        place,
        message.text,
        message.url,
        message.level,
        message.kind,
        kinds.generation(),  # the kind's label, as the registry gives it now
        read,
        created,
        age_bucket(created, now),
        back,
        env,
    )


def check_place(place: str) -> None:
    if place not in TEMPLATES:
        raise ValueError(f"Unknown place {place!r}: use one of {', '.join(PLACES)}.")


def environment() -> tuple:
    """What else shapes a render: the active time zone, and what url_environment() names."""
    return (timezone.get_current_timezone_name(), *url_environment())


def url_environment() -> tuple:
    """What shapes a render that shows no time: the active language, the URL prefix and URLconf."""
    return (translation.get_language(), get_script_prefix(), get_urlconf())


def age_bucket(created: datetime, now: datetime | None = None) -> tuple[int, int]:
    """(unit, count) such that naturaltime(created) reads the same while both stay the same.

    naturaltime shows seconds under a minute, minutes under an hour, hours under a day, then
    timesince's two adjacent units: "1 day, 3 hours" under a week, and days or coarser units
    (weeks, calendar months) beyond, which all turn over at whole days from `created`. A future
    time (a clock ahead elsewhere) is counted in seconds.
    """
    now = now or timezone.now()
    seconds = int((now - created).total_seconds()) if now >= created else -1
    if seconds < 60:
        unit = 1
    elif seconds < 3600:
        unit = 60
    elif seconds < 7 * 86400:
        unit = 3600
    else:
        unit = 86400
    return unit, seconds // unit


@lru_cache(maxsize=CACHE_SIZE)
def _render(
    place, text, url, level, kind, kinds_generation, read, created, bucket, back, env
) -> ItemTemplate | None:
    """Render an item with the placeholders (the arguments are the cache key: everything that
    shapes the HTML; `back` is the dashboard's back URL (None in the dropdown), `env` what
    environment() says is in force)."""
    if any(placeholder in value for placeholder in PLACEHOLDERS for value in (text, url)):
        return None
    stand_in = _model(int(ID_PLACEHOLDER), text, url, level, kind, created, created if read else None)
    html = _render_template(stand_in, place, TOKEN_PLACEHOLDER, back)
    if ID_PLACEHOLDER not in html:  # e.g. USE_THOUSAND_SEPARATOR printed the id as 1,234,...
        return None
    return ItemTemplate(tuple(tuple(piece.split(ID_PLACEHOLDER)) for piece in html.split(_TOKEN_INPUT)))


def render_item(notification, place: str, csrf_token, *, kind: str = "", level: str = "") -> SafeString:
    """Render one item (a Notification, its message loaded, or a list's row) through its partial
    (no cache)."""
    return _render_template(_as_model(notification), place, csrf_token, _back(place, kind, level))


def _as_model(n):
    """A Notification (its message loaded) as is; a list's row (inbox.web.rows.Row) as the unsaved
    instances the item template reads."""
    from inbox.models import Notification

    if isinstance(n, Notification):
        return n
    m = n.message
    return _model(n.pk, m.text, m.url, m.level, m.kind, n.created, n.read_at, message_pk=m.pk)


def _model(pk, text, url, level, kind, created, read_at, *, message_pk=None):
    """An unsaved Notification and Message with what an item shows (no query)."""
    from inbox.models import Message, Notification

    message = Message(pk=message_pk, text=text, url=url, level=level, kind=kind, created=created)
    return Notification(pk=pk, message=message, created=created, read_at=read_at)


def _render_template(notification, place: str, csrf_token, back: str | None) -> SafeString:
    context = {"n": notification, "filter": place, "csrf_token": csrf_token}
    if back is not None:
        context["back_url"] = back
    return mark_safe(get_template(TEMPLATES[place]).render(context))


def _back(place: str, kind: str, level: str) -> str | None:
    """The back URL a dashboard item's forms carry (None: the dropdown's carry none)."""
    return None if place == "dropdown" else back_url(place, kind, level)


def query(show: str, kind: str = "", level: str = "") -> str:
    """The dashboard's query string for these filters (the empty ones left out)."""
    return urlencode({"filter": show} | {k: v for k, v in (("kind", kind), ("level", level)) if v})


def back_url(show: str, kind: str = "", level: str = "") -> str:
    """Where an action on the dashboard returns to without JavaScript: the list it was on."""
    return f"{reverse('inbox:index')}?{query(show, kind, level)}"


def cache_info():
    """The render cache's hits, misses and size (functools.lru_cache's cache_info())."""
    return _render.cache_info()


def cache_clear(**kwargs) -> None:
    """Forget every rendered item (tests, and when a setting changes: a deployment never needs to)."""
    _render.cache_clear()


# A setting can change what an item shows beyond its key (ROOT_URLCONF, USE_THOUSAND_SEPARATOR...).
setting_changed.connect(cache_clear, dispatch_uid="inbox.web.items.cache_clear")
