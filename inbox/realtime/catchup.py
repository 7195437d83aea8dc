"""The answer to a page's hello (after a connect or a reconnect): whatever it missed."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.template.loader import render_to_string

from inbox.conf import inbox_setting
from inbox.web.rows import Row

from . import frames, queries
from .messages import State


def catch_up(user_id: int, state: State) -> str:
    """The frame for a socket whose page shows `state`; updates `state` to what the page shows
    once the frame is swapped in. Synchronous (database reads): a few queries."""
    count = queries.unread_count_of(user_id)
    parts = [frames.badge(count)]
    if state.dashboard:
        parts += _list(user_id, state)
    if state.dropdown:
        parts.append(frames.dropdown(queries.dropdown_items(user_id), state.csrf))
    return frames.frame("".join(parts), badge=count)


def _list(user_id: int, state: State) -> list[str]:
    parts = []
    size = inbox_setting("PAGE_SIZE")
    if state.top:
        new = queries.newer(user_id, state.filter, state.newest, size + 1, kind=state.kind, level=state.level)
        if len(new) > size:  # more than a page is new: the first page replaces the list
            return [_first_page(user_id, state)]
        if new:
            parts.append(
                frames.prepend(
                    "".join(
                        frames.item(
                            n, state.filter, state.csrf, oob=False, kind=state.kind, level=state.level
                        )
                        for n in new
                    )
                )
            )
            state.newest = (new[0].created, new[0].pk)
            state.shown |= {n.pk for n in new}
            shown = state.shown - {n.pk for n in new}
        else:
            shown = set(state.shown)
    else:
        shown = set(state.shown)
    parts += frames.shown_updates(state, shown, queries.notifications(user_id, shown))
    return parts


def _first_page(user_id: int, state: State) -> str:
    from inbox.web.views import inbox_page

    context = {"filter": state.filter, "after": None, "csrf_token": state.csrf or None}
    user = get_user_model()(pk=user_id)
    context.update(inbox_page(user, state.filter, kind=state.kind, level=state.level))
    items: list[Row] = context["items"]
    state.shown = {n.pk for n in items}
    state.newest = (items[0].created, items[0].pk) if items else None
    return frames.first_page(render_to_string("inbox/index.html#list", context))
