"""What a socket receives: one frame per event, JSON that carries both the HTML made of the
app's template partials, as out-of-band swaps (inbox/realtime/templates/inbox/realtime.html), in
"content", which htmx's hx-ws extension swaps, and the data the page script reads beside it.

The pieces here are rendered when asked. A broadcast to thousands of sockets asks for each
shared piece once and JSON-encodes it once (`encoded`; see broadcast.py), then joins each
socket's frame from the encoded pieces, byte for byte what frame() gives: a socket then costs a
join, not a render and an encoding of its whole frame.
"""

from __future__ import annotations

import json

from django.template.loader import render_to_string

from inbox.badge import Badge
from inbox.conf import inbox_setting
from inbox.web import extensions
from inbox.web.items import ItemTemplate, item_html

__all__ = [
    "announce",
    "badge",
    "dropdown",
    "encoded",
    "encoded_frame",
    "encoded_item",
    "encoded_prepender",
    "first_page",
    "frame",
    "frame_around",
    "gone",
    "item",
    "prepend",
    "shown_updates",
]

SLOT = "INBOXREALTIMESLOT"  # where a wrapper's content goes (no template prints it by itself)
MORPH = ' hx-swap-oob="outerMorph"'


def _wrapper(name: str) -> tuple[str, str]:
    """The partial `name` of inbox/realtime.html split around its content."""
    head, _, tail = render_to_string(f"inbox/realtime.html#{name}", {"content": SLOT}).partition(SLOT)
    return head, tail


def _wrap(name: str, content: str) -> str:
    head, tail = _wrapper(name)
    return f"{head}{content}{tail}"


def item(notification, place: str, csrf: str, *, oob: bool = True, kind: str = "", level: str = "") -> str:
    """A dashboard item (inbox/index.html#item) as `place` ("all"/"unread") filtered by `kind`
    and `level` shows it; with `oob`, it replaces (morphs) the item of the same id on the page."""
    html = item_html(notification, place, csrf or None, kind=kind, level=level)
    return html.replace("<li ", f"<li{MORPH} ", 1) if oob else html


def prepend(items_html: str) -> str:
    """New items on top of the dashboard's list (and its "no notifications" line gone)."""
    return _wrap("prepend", items_html)


def encoded_prepender() -> tuple[str, str]:
    """prepend()'s wrapper, encoded(): what goes before and after a socket's encoded item."""
    head, tail = _wrapper("prepend")
    return encoded(head), encoded(tail)


def gone(notification_id: int) -> str:
    """The item leaves the page (deleted, expired, or read while the list shows unread ones)."""
    return _wrap("gone", str(int(notification_id)))


def shown_updates(state, ids, current: dict) -> list[str]:
    """The frames for the shown items `ids` as they are now (`current`: id -> notification):
    each one re-rendered, or removed when it is gone or no longer in the page's list; `state`
    forgets the removed ones."""
    parts = []
    for pk in sorted(ids):
        n = current.get(pk)
        if n is None or not state.lists(n.message, n.is_read):
            parts.append(gone(pk))
            state.shown.discard(pk)
        else:
            parts.append(item(n, state.filter, state.csrf, kind=state.kind, level=state.level))
    return parts


def badge(count: int) -> str:
    """The bell's badge for `count`, swapped in place (inbox/bell.html#badge)."""
    context = {
        "inbox_badge": Badge(count=count, limit=inbox_setting("BADGE_MAX")),
        "inbox_poll_seconds": inbox_setting("BADGE_POLL_SECONDS"),
        "oob": True,
    }
    return render_to_string("inbox/bell.html#badge", context)


def dropdown(items, csrf: str) -> str:
    """The open dropdown's content, morphed in place (inbox/bell.html#dropdown)."""
    context = {"items": items, **extensions.bell_extras(), "csrf_token": csrf or None}
    return _wrap("dropdown", render_to_string("inbox/bell.html#dropdown", context))


def announce(message) -> str:
    """The polite live region's text: "New notification: ..."."""
    return render_to_string("inbox/realtime.html#announce", {"message": message})


def first_page(html: str) -> str:
    """The dashboard's whole list (inbox/index.html#list, rendered by the caller), morphed."""
    return html.replace('<section id="inbox-list"', f'<section id="inbox-list"{MORPH}', 1)


def frame(html: str, *, badge: int, read=(), all_read: bool = False) -> str:
    """A socket's one frame for an event: {"badge": n, "read": ["17", ...], "all_read": true,
    "content": "<html>"}. hx-ws swaps "content" (out-of-band partials only); realtime.js hands
    the rest to the service worker: "read" are the tags of OS notifications to close (the
    notification ids, as sw.js tags pushes), "badge" the app badge's count."""
    data = {"badge": badge, "read": [str(pk) for pk in read]}
    if all_read:
        data["all_read"] = True
    if html:
        data["content"] = html
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def encoded(html: str) -> str:
    """`html` as frame() writes it inside the "content" string: JSON-escaped, without the quotes.
    The encodings of pieces joined are the encoding of the pieces' join."""
    return json.dumps(html, ensure_ascii=False)[1:-1]


def encoded_item(template: ItemTemplate) -> ItemTemplate:
    """An item template whose pieces are encoded(): its filled() with the id's digits and
    encoded(csrf_input(token)) is the encoding of that recipient's item."""
    return ItemTemplate(tuple(tuple(encoded(text) for text in piece) for piece in template.parts))


def encoded_frame(encoded_content: str, *, badge: int, around: tuple[str, str] | None = None) -> str:
    """frame(content, badge=badge) from encoded(content) (no read tags); `around` is
    frame_around(badge), when the caller keeps it."""
    if not encoded_content:
        return frame("", badge=badge)
    head, tail = around or frame_around(badge)
    return f"{head}{encoded_content}{tail}"


def frame_around(badge: int) -> tuple[str, str]:
    """What frame() writes before and after its content's encoding, for this badge."""
    head, _, tail = frame(SLOT, badge=badge).partition(SLOT)
    return head, tail
