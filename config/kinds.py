"""The demo site's kinds of notification (INBOX_KINDS_MODULE names this module).

A host project writes the same: a module of inbox.kinds.register() calls, named by its settings.
"""

from __future__ import annotations

from inbox import kinds

kinds.register(
    "mention",
    "Mentions",
    description="Someone mentioned you or shared something with you.",
    channels=("inbox", "push", "email", "digest"),
)
kinds.register(
    "build.finished",
    "Builds",
    description="A CI build of a branch you follow passed or failed.",
    channels=("inbox", "digest"),
)
kinds.register(
    "announcement",
    "Announcements",
    description="News and planned maintenance from the team.",
    channels=("inbox", "digest"),
    optional=False,
)
kinds.register(
    "security",
    "Security alerts",
    description="Sign-ins and account changes. Always delivered; only staff can send them.",
    channels=("inbox", "push", "email"),
    must_deliver=True,
)
