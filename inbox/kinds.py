"""The kinds of notification: a small registry, like inbox.delivery, that the host project fills.

    from inbox import kinds
    kinds.register("build.finished", "Builds", description="A CI build passed or failed.")
    kinds.register("security", "Security alerts", must_deliver=True)

A kind names its default channels (the preference grid's columns: the core's "inbox", then one
per installed channel that registers one with `register_channel()` from its ready(): "push" from
inbox.push, "email" and "digest" from inbox.mail, or a site's own), whether users may turn its
in-app row off (`optional`), and whether it is a `must_deliver` kind: every default channel
forced on, no user choice, and only staff may send it from the form. Users who turn "inbox" off
for a kind get nothing of it: the other channels deliver the in-app row (push and email carry
its id, digests collect unread rows). The app registers "general" itself; a site registers its
own from the module named by INBOX_KINDS_MODULE, which InboxConfig.ready() imports (a kind may
name a built-in channel whatever is installed; one that names a site's own channel needs that
channel's app, which calls register_channel(), listed before "inbox" in INSTALLED_APPS).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

__all__ = [
    "CHANNELS",
    "DEFAULT_CHANNELS",
    "GENERAL",
    "Kind",
    "all",
    "choices",
    "get",
    "register",
    "register_channel",
    "unregister_channel",
]

# The channels Inbox ships, with their columns' labels: a kind may name them whether or not they
# are installed (a site without push still registers kinds that push by default).
BUILT_IN_CHANNELS = {"inbox": "In the inbox", "push": "Push", "email": "Email", "digest": "Email digest"}
# The preference grid's columns, in order, with their labels: the in-app row, then each installed
# channel's, as it registers (changed in place: whoever imported it sees them).
CHANNELS: dict[str, str] = {"inbox": BUILT_IN_CHANNELS["inbox"]}
# Email goes out only to users who ask for it; the digest takes a kind once a user turns digests on.
DEFAULT_CHANNELS = ("inbox", "push", "digest")
GENERAL = "general"
KEY = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}", re.ASCII)
LABEL_MAX_LENGTH = 100


PUSH_URGENCIES = ("", "very-low", "low", "normal", "high")  # RFC 8030, section 5.3


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    description: str = ""
    channels: frozenset[str] = frozenset(DEFAULT_CHANNELS)
    optional: bool = True  # may a user turn the in-app row off?
    must_deliver: bool = False  # every default channel forced on; staff-only in the form
    # The push's Urgency header (RFC 8030) for this kind, or "" for the level's (info: "normal").
    # "low" asks the push service to deliver only on power and Wi-Fi: for kinds nobody waits for.
    push_urgency: str = ""

    def default(self, channel: str) -> bool:
        return channel in self.channels

    def locked(self, channel: str) -> str:
        """Why a user cannot change this cell, or "" if they can."""
        if self.must_deliver:
            return (
                f"{self.label} always reach you this way."
                if self.default(channel)
                else (f"{self.label} are never sent this way.")
            )
        if channel == "inbox" and not self.optional:
            return f"{self.label} always appear in your inbox."
        return ""


_kinds: dict[str, Kind] = {}
_generation = 0  # how many times the registry changed: caches of what kinds show key on it


def generation() -> int:
    """A number that changes whenever a kind or a channel's column is registered or removed."""
    return _generation


def register(
    key: str,
    label: str,
    *,
    description: str = "",
    channels=DEFAULT_CHANNELS,
    optional: bool = True,
    must_deliver: bool = False,
    push_urgency: str = "",
) -> Kind:
    """Declare a kind (replacing any of that key); ValueError for a malformed key or channel."""
    if not isinstance(key, str) or not KEY.fullmatch(key):
        raise ValueError(
            f"Kind key {key!r}: 1-64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit."
        )
    if not label or len(label) > LABEL_MAX_LENGTH:
        raise ValueError(f"Kind {key!r}: a label of 1 to {LABEL_MAX_LENGTH} characters is needed.")
    channels = frozenset(channels)
    if unknown := channels - CHANNELS.keys() - BUILT_IN_CHANNELS.keys():
        known = ", ".join(CHANNELS | BUILT_IN_CHANNELS)
        raise ValueError(f"Kind {key!r}: unknown channels {sorted(unknown)}; use {known}.")
    # The in-app row is what every other channel delivers (push and email carry its id, digests
    # collect unread rows): a kind without it would reach nobody, so "inbox" is always a default.
    if "inbox" not in channels:
        raise ValueError(f"Kind {key!r}: its channels must include 'inbox' (users may turn it off).")
    if push_urgency not in PUSH_URGENCIES:
        raise ValueError(
            f"Kind {key!r}: push_urgency must be one of {', '.join(PUSH_URGENCIES[1:])} (or empty)."
        )
    if must_deliver:
        optional = False
    kind = Kind(key, label, description, channels, optional, must_deliver, push_urgency)
    global _generation
    _kinds[key] = kind
    _generation += 1
    return kind


def register_channel(key: str, label: str = "") -> None:
    """A delivery channel's column in the preference grid (called from the channel's ready()):
    users may then turn each kind on or off for it. The label defaults to the built-in channel's;
    a site's own channel names one."""
    label = label or BUILT_IN_CHANNELS.get(key, "")
    if not isinstance(key, str) or not KEY.fullmatch(key) or len(key) > 16:
        raise ValueError(f"Channel key {key!r}: 1-16 of a-z, 0-9, '.', '_', '-'.")
    if not label or len(label) > LABEL_MAX_LENGTH:
        raise ValueError(f"Channel {key!r}: a label of 1 to {LABEL_MAX_LENGTH} characters is needed.")
    global _generation
    CHANNELS[key] = label
    _generation += 1


def unregister_channel(key: str) -> None:
    """Remove a channel's column (tests); "inbox" is the core's and stays."""
    global _generation
    if key != "inbox" and CHANNELS.pop(key, None) is not None:
        _generation += 1


def unregister(key: str) -> None:
    """Remove a kind (tests); "general" is the default kind and stays."""
    global _generation
    if key != GENERAL and _kinds.pop(key, None) is not None:
        _generation += 1


def get(key) -> Kind:
    """The kind registered as `key`; ValidationError "Unknown kind: x." otherwise."""
    if isinstance(key, str) and key in _kinds:
        return _kinds[key]
    shown = key if isinstance(key, str) and len(key) <= 80 else f"{str(key)[:80]}…"
    raise ValidationError(f"Unknown kind: {shown.replace(chr(0), '\\0')}.", code="unknown_kind")


def all() -> tuple[Kind, ...]:
    """Every kind, in registration order."""
    return tuple(_kinds.values())


def choices(*, staff: bool = True) -> list[tuple[str, str]]:
    """(key, label) for a select: without the must_deliver kinds when the sender is not staff."""
    return [(k.key, k.label) for k in _kinds.values() if staff or not k.must_deliver]


register(GENERAL, "General", description="Notifications that have no more specific kind.")
