"""What a page sends over its socket, read defensively: a "hello" on every (re)connect and a
"state" when the page changed (see docs/architecture.md, "Real time").

    {"type": "hello" | "state", "tab": "a1b2", "csrf": "<the page's CSRF token>",
     "page": "dashboard" | "other", "filter": "unread" | "all", "kind": "<a kind>" | "",
     "level": "<a level>" | "", "top": true, "newest": "<cursor of the list's top item>" | "",
     "shown": [17, 16, ...], "dropdown": false}

"kind" and "level" are the dashboard list's filters ("" = any), as its data-kind / data-level say.
A frame is at most MAX_BYTES of UTF-8 JSON, nested at most MAX_DEPTH deep; every field is checked
(type, length, characters; a kind must be registered, a level one of Level's). Anything else
raises Invalid and the frame is ignored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError

from inbox import kinds
from inbox.models import Level, parse_cursor

__all__ = ["MAX_BYTES", "Invalid", "State", "parse"]

MAX_BYTES = 4096
MAX_DEPTH = 4
MAX_SHOWN = 200
TYPES = ("hello", "state")
TAB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)
CSRF_TOKEN = re.compile(r"[A-Za-z0-9]{32}|[A-Za-z0-9]{64}", re.ASCII)  # Django's, unmasked or masked
NOTIFICATION_ID = re.compile(r"[0-9]{1,18}", re.ASCII)


class Invalid(ValueError):
    """A frame the consumer ignores."""


@dataclass
class State:
    """What one socket's page shows; updates are sent only for that."""

    tab: str = ""
    csrf: str = ""
    page: str = "other"
    filter: str = "all"
    kind: str = ""  # the list's kind filter, "" for every kind
    level: str = ""  # the list's level filter, "" for every level
    top: bool = False
    newest: tuple[datetime, int] | None = None  # (created, id) of the list's top item
    shown: set[int] = field(default_factory=set)
    dropdown: bool = False

    @property
    def dashboard(self) -> bool:
        return self.page == "dashboard"

    def lists(self, message, read: bool) -> bool:
        """Whether the page's dashboard list shows a notification of `message` (read or not)."""
        return (
            (self.filter == "all" or not read)
            and self.kind in ("", message.kind)
            and self.level in ("", message.level)
        )


def parse(text, binary=None) -> tuple[str, dict]:
    """(type, fields) of a page's frame; Invalid if it is anything but a well-formed one."""
    if binary is not None or not isinstance(text, str):
        raise Invalid("binary frame")
    if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise Invalid("frame too large")
    try:
        data = json.loads(text)
    except RecursionError:
        raise Invalid("nested too deeply") from None
    except ValueError:
        raise Invalid("not JSON") from None
    if not isinstance(data, dict):
        raise Invalid("not a JSON object")
    if depth(data) > MAX_DEPTH:
        raise Invalid("nested too deeply")
    kind = data.get("type")
    if kind not in TYPES:
        raise Invalid("unknown type")
    return kind, clean_fields(data)


def depth(value) -> int:
    """How deeply `value` nests lists and objects (iteratively: no recursion to exhaust)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def clean_fields(data: dict) -> dict:
    """The fields present in `data`, checked; a bad one makes the whole frame Invalid."""
    checks = {
        "tab": lambda v: _match(v, TAB_ID, "tab"),
        "csrf": lambda v: "" if v == "" else _match(v, CSRF_TOKEN, "csrf"),
        "page": lambda v: _choice(v, ("dashboard", "other"), "page"),
        "filter": lambda v: _choice(v, ("unread", "all"), "filter"),
        "kind": _kind,
        "level": lambda v: "" if v == "" else _choice(v, tuple(Level.values), "level"),
        "top": lambda v: _bool(v, "top"),
        "newest": _cursor,
        "shown": _shown,
        "dropdown": lambda v: _bool(v, "dropdown"),
    }
    return {name: check(data[name]) for name, check in checks.items() if name in data}


def _match(value, pattern: re.Pattern, name: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise Invalid(f"bad {name}")
    return value


def _choice(value, choices: tuple, name: str) -> str:
    if value not in choices:
        raise Invalid(f"bad {name}")
    return value


def _kind(value) -> str:
    if value == "":
        return ""
    if not isinstance(value, str) or len(value) > 64:
        raise Invalid("bad kind")
    try:
        return kinds.get(value).key
    except ValidationError:
        raise Invalid("unknown kind") from None


def _bool(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"bad {name}")
    return value


def _cursor(value):
    if value == "":
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise Invalid("bad newest")
    try:
        return parse_cursor(value)
    except ValueError:
        raise Invalid("bad newest") from None


def _shown(value) -> set[int]:
    if not isinstance(value, list):
        raise Invalid("bad shown")
    ids = set()
    for item in value[:MAX_SHOWN]:
        if isinstance(item, str) and NOTIFICATION_ID.fullmatch(item):
            item = int(item)
        if type(item) is not int or not 0 < item < 2**63:  # bool is an int: refused here
            raise Invalid("bad shown")
        ids.add(item)
    return ids
